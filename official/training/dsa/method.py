"""`training.method: dsa`: weights and per-group keep ratios trained together under a FLOPs budget.

wrap(model) finds the channel groups (graph.py), rebuilds the network with one ChannelGate per group
(masked.py: the same layers, so the same weights) and the quadratic FLOPs model (flops.py). Every step
of `DSATrainer.train_step`:

1. the masked network runs on the batch with masks m ~ Bernoulli(p) (gate.py); one backward pass gives
   the gradients of the task loss to the weights (stepped by the network's optimizer, as in any run)
   and to theta = logit(alpha) through the straight-through mask and the implicit beta1 gradient;
2. every `alpha_every` steps after `warmup_steps` (reconstructed; the official repo has no driver), the
   keep ratios take one gradient step in alpha (clipped to [0.001, 0.999]) on the task loss +
   rho/2 ||alpha - z + u||^2 (linearised ADMM: with alpha_lr * rho < 1 alpha moves a fixed fraction of
   the way to z - u each step, so the dual cannot wind up), then the ADMM auxiliary z is
   alpha + u projected onto {FLOPs(z) <= B FLOPs(1)} (largest scale s in [0, 1] with FLOPs(s(alpha+u))
   <= budget, by bisection; alpha + u itself where it fits) and the dual is u += alpha - z.

The keep-ratio gradient comes from the same training batch as the weights' (one backward pass), not from
a held-out split as in the paper; see the card. Evaluation during training runs the masked network in
inference mode (deterministic masks: the pruned network's channels). The checkpointed network is the
plain one; the gates' state is saved beside it (`checkpoint_extras`, names in `extra_names`), and
`keep_ratios_from_checkpoint` reads the alphas back for tools.prune.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from official.core.config import ConfigError
from official.core.registry import register_training_method
from official.training.dsa.config import DSAConfig
from official.training.dsa.flops import flops_model
from official.training.dsa.gate import ChannelGate
from official.training.dsa.graph import analyse, channel_groups
from official.training.dsa.masked import masked_model
from official.training.dsa.prune import IMPORTANCES, primal_norm
from official.training.method import TrainingMethod

ALPHA_MIN, ALPHA_MAX = 1e-3, 1.0 - 1e-3  # keep ratios stay inside (0, 1): theta = logit(alpha) finite


def extra_names(index: int) -> dict[str, str]:
    """Checkpoint names of group `index`'s state (tf.train.Checkpoint keys, before '/.ATTRIBUTES')."""
    return {"theta": f"dsa_theta_{index}", "log_beta1": f"dsa_log_beta1_{index}", "beta2_raw": f"dsa_beta2_raw_{index}",
            "seed": f"dsa_seed_{index}"}


def keep_ratios_from_checkpoint(path: str) -> np.ndarray:
    """alpha_g = sigmoid(theta_g) of every group in a DSA training checkpoint (a prefix or its directory)."""
    prefix = tf.train.latest_checkpoint(path) or path
    reader = tf.train.load_checkpoint(prefix)
    keys = reader.get_variable_to_shape_map()
    thetas = []
    while f"{extra_names(len(thetas))['theta']}/.ATTRIBUTES/VARIABLE_VALUE" in keys:
        thetas.append(float(reader.get_tensor(f"{extra_names(len(thetas))['theta']}/.ATTRIBUTES/VARIABLE_VALUE")))
    if not thetas:
        raise ValueError(f"{prefix}: no dsa_theta_0 in this checkpoint (not a training.method: dsa run)")
    return 1.0 / (1.0 + np.exp(-np.asarray(thetas)))


def project_to_budget(v, flops, budget, iterations: int):
    """z = clip(s v, 0, 1) with the largest s in [0, 1] (bisection) such that FLOPs(z) <= budget;
    clip(v, 0, 1) itself when it fits. In keras.ops (runs inside the compiled step); the test uses a
    budget 1e-5 below `budget` so that float32 rounding never lands above it."""
    v = ops.clip(v, 0.0, 1.0)
    budget = budget * (1.0 - 1e-5)

    def body(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        fits = flops(mid * v) <= budget
        return ops.where(fits, mid, lo), ops.where(fits, hi, mid)

    lo, _ = ops.fori_loop(0, iterations, body, (ops.zeros(()), ops.ones(())))
    return ops.where(flops(v) <= budget, v, lo * v)


class DSATrainer(keras.Model):
    """The masked network with the keep-ratio optimisation in its train step (see the module docstring)."""

    def __init__(self, network: keras.Model, cfg: DSAConfig, total_steps: int, seed: int = 0, **kwargs):
        super().__init__(name=kwargs.pop("name", "dsa_trainer"), **kwargs)
        if not 0.0 < cfg.flops_ratio <= 1.0:
            raise ValueError(f"training.flops_ratio: expected a fraction in (0, 1], got {cfg.flops_ratio}")
        if cfg.alpha_every < 1:
            raise ValueError(f"training.alpha_every: expected >= 1, got {cfg.alpha_every}")
        if cfg.beta2_start <= 0 or cfg.beta2_end <= 0:
            raise ValueError("training.beta2_start / beta2_end: beta2 must be > 0")
        if cfg.importance not in IMPORTANCES:
            raise ValueError(f"training.importance: expected one of {IMPORTANCES}, got {cfg.importance!r}")
        self.network = network
        self.cfg = cfg
        self.total_steps = max(int(total_steps), 1)
        self.groups = channel_groups(network)
        if not self.groups:
            raise ValueError(f"{network.name}: no prunable channel groups (conv -> BN pairs) found")
        self.gates = []

        info = analyse(network) if cfg.importance == "bn" else None

        def make_gate(group, primal):
            norm = primal_norm(info, group) if info is not None else None
            gate = ChannelGate.for_group(group, primal, theta_init=cfg.theta_init, beta2_init=cfg.beta2_start,
                                         iterations=cfg.solver_iterations, seed=seed + group.index, norm=norm)
            self.gates.append(gate)
            return gate

        self.masked = masked_model(network, self.groups, make_gate)
        self.gates.sort(key=lambda g: int(g.name.rsplit("_", 1)[1]))
        self.input_size = tuple(int(d) for d in network.inputs[0].shape[1:])
        self.flops = flops_model(network, self.groups, self.input_size)
        self.full_flops = self.flops(np.ones(len(self.groups)))
        n, agg = len(self.groups), "only_first_replica"
        self.z = self.add_weight(shape=(n,), initializer="ones", trainable=False, name="admm_z", aggregation=agg)
        self.u = self.add_weight(shape=(n,), initializer="zeros", trainable=False, name="admm_u", aggregation=agg)
        self.alpha_steps = self.add_weight(shape=(), initializer="zeros", trainable=False, name="alpha_steps",
                                           aggregation=agg)
        self.flops_tracker = keras.metrics.Mean(name="flops_ratio")
        self.diff_tracker = keras.metrics.Mean(name="expectation_diff")

    @property
    def inference_model(self) -> keras.Model:
        return self.network

    def checkpoint_extras(self) -> dict:
        extras = {"dsa_admm_z": self.z, "dsa_admm_u": self.u, "dsa_alpha_steps": self.alpha_steps}
        for i, gate in enumerate(self.gates):
            names = extra_names(i)
            extras.update({names["theta"]: gate.theta, names["log_beta1"]: gate.log_beta1,
                           names["beta2_raw"]: gate.beta2_raw, names["seed"]: gate.seed_generator.state})
        return extras

    @property
    def metrics(self):
        return [*super().metrics, self.flops_tracker, self.diff_tracker]

    def alphas(self):
        return ops.stack([gate.alpha for gate in self.gates])

    def keep_ratios(self) -> np.ndarray:
        return np.asarray(ops.convert_to_numpy(self.alphas()), np.float64)

    def flops_ratio(self, alpha=None):
        """FLOPs(alpha) / FLOPs(1) (expected FLOPs of the current keep ratios by default)."""
        return self.flops(self.alphas() if alpha is None else alpha) / self.full_flops

    def call(self, inputs, training=False):
        return self.masked(inputs, training=training)

    def set_beta2(self, step):
        cfg = self.cfg
        if cfg.beta2_start == cfg.beta2_end:
            return
        frac = ops.minimum(ops.cast(step, "float32") / float(self.total_steps), 1.0)
        beta2 = cfg.beta2_start + (cfg.beta2_end - cfg.beta2_start) * frac
        raw = ops.log(ops.expm1(beta2))
        for gate in self.gates:
            gate.beta2_raw.assign(raw)

    def alpha_step(self, theta_grads, step):
        """One projected gradient step on alpha (task gradient + ADMM penalty), then z and u; only on the
        steps the schedule marks `active` (warm-up over, every `alpha_every` steps)."""
        cfg = self.cfg
        active = ops.logical_and(step >= cfg.warmup_steps, (step - cfg.warmup_steps) % cfg.alpha_every == 0)
        theta = ops.stack([gate.theta.value for gate in self.gates])
        alpha = ops.sigmoid(theta)
        task = ops.stack([ops.zeros(()) if g is None else ops.cast(g, "float32") for g in theta_grads])
        task = task / ops.maximum(alpha * (1.0 - alpha), 1e-6)  # dL/dtheta -> dL/dalpha
        stepped = alpha - cfg.alpha_lr * (task + cfg.rho * (alpha - self.z + self.u))
        stepped = ops.clip(stepped, ALPHA_MIN, ALPHA_MAX)
        theta = ops.where(active, ops.log(stepped) - ops.log1p(-stepped), theta)
        for i, gate in enumerate(self.gates):
            gate.theta.assign(theta[i])
        alpha = ops.where(active, stepped, alpha)
        budget = cfg.flops_ratio * self.full_flops
        z = project_to_budget(alpha + self.u, self.flops, budget, cfg.projection_iterations)
        self.z.assign(ops.where(active, z, self.z))
        self.u.assign(ops.where(active, self.u + alpha - z, self.u))
        self.alpha_steps.assign(self.alpha_steps + ops.cast(active, "float32"))

    def train_step(self, data):
        x, y = data[0], data[1]
        sample_weight = data[2] if len(data) > 2 else None
        step = ops.cast(self.optimizer.iterations, "int32")
        self.set_beta2(step)
        variables = self.network.trainable_variables
        thetas = [gate.theta.value for gate in self.gates]
        with tf.GradientTape() as tape:
            tape.watch(thetas)
            y_pred = self(x, training=True)
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            self._loss_tracker.update_state(_unscaled(loss),
                                            sample_weight=tf.shape(x)[0])
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, [*variables, *thetas])
        self.optimizer.apply(grads[: len(variables)], variables)
        theta_grads = grads[len(variables):]
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:  # the scaled loss: per-replica shares sum
            theta_grads = replica.all_reduce("SUM", [tf.zeros(()) if g is None else g for g in theta_grads])
        # mean(p) of this forward pass against the alpha it was solved for (before alpha moves)
        self.diff_tracker.update_state(ops.mean(ops.stack([g.p_mean - g.alpha for g in self.gates])))
        self.alpha_step(theta_grads, step)
        self.flops_tracker.update_state(self.flops_ratio())
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


    def test_step(self, data):
        logs = super().test_step(data)
        self.flops_tracker.update_state(self.flops_ratio())
        self.diff_tracker.update_state(ops.mean(ops.stack([g.p_mean - g.alpha for g in self.gates])))
        return {**logs, "flops_ratio": self.flops_tracker.result(), "expectation_diff": self.diff_tracker.result()}


def _unscaled(loss):
    from keras.src.losses import loss as loss_module

    return loss_module.unscale_loss_for_distribution(loss)


@register_training_method("dsa")
class DSA(TrainingMethod):
    config_cls = DSAConfig

    def total_steps(self) -> int:
        t = self.config.trainer
        if t.train_steps > 0:
            return t.train_steps
        steps = t.steps_per_epoch
        if steps <= 0:
            n = self.task.num_examples(self.config.train_data) or 0
            steps = max(n // max(t.global_batch_size, 1), 1)
        return t.epochs * steps

    def wrap(self, model: keras.Model) -> keras.Model:
        try:
            return DSATrainer(model, self.config.training, self.total_steps(), seed=self.config.runtime.seed)
        except ValueError as err:
            raise ConfigError(str(err)) from err

"""The adversarial training step under KERAS_BACKEND=jax: the same objective code as the TF step
(trainer.py), as one pure function that `jax.jit` compiles (the GPU throughput benchmark runs it).

One step, in the TF step's order: the generators' terms (`objective.generator_losses`, training=True) ->
`jax.value_and_grad` over every generator variable -> the trainer's optimizer (`stateless_apply`); then
the discriminators' terms on the fakes without gradient, with the generators already updated ->
`jax.value_and_grad` over the discriminator variables -> the discriminators' optimizer; then the generator
average (ema.py's recursion, decay 0 up to `ema_start_step`). Non-trainable state that a forward pass
updates (batch-norm statistics, spectral-norm vectors, the objectives' noise seeds) carries from the G
pass into the D pass and out of the step.

An objective's loss methods call several networks (`self.network`, `self.discriminators[...]`), so the
step runs them inside one `keras.StatelessScope` over all of the objective's variables - the mechanism
`Layer.stateless_call` uses for a single network - and reads the updated non-trainable values back
from the scope as `stateless_call` does.

Limits: a single device (no replica scaling: the TF step divides by the replica count); no image
history (`training.pool_size` must be 0; the history is a tf.Module); no `mixed_float16` loss scaling
(use `mixed_bfloat16` on JAX). No TensorFlow is imported here.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


def _total(terms: dict):
    return ops.sum(ops.stack([ops.cast(v, "float32") for v in terms.values()]))


class JaxAdversarialStep:
    """`step(state, batch) -> (state, logs)` for an AdversarialTrainer objective (a pure function of
    arrays); `initial_state()` reads the objective's variables, `write_back(state)` assigns them."""

    def __init__(self, objective: Any, g_optimizer: keras.optimizers.Optimizer,
                 d_optimizer: keras.optimizers.Optimizer | None = None):
        if keras.backend.backend() != "jax":
            raise ValueError(f"JaxAdversarialStep needs KERAS_BACKEND=jax, got {keras.backend.backend()!r}")
        if objective.histories:
            raise ValueError("training.pool_size > 0: the image history is TensorFlow-only; the JAX step needs "
                             "pool_size 0")
        d_optimizer = objective.d_optimizer if d_optimizer is None else d_optimizer
        for opt in (g_optimizer, d_optimizer):
            if isinstance(opt, keras.optimizers.LossScaleOptimizer):
                raise ValueError("mixed_float16 loss scaling is not supported by the JAX step; use mixed_bfloat16")
        self.objective = objective
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.g_vars = list(objective.generator_variables)
        self.d_vars = list(objective.discriminator_variables)
        if not g_optimizer.built:
            g_optimizer.build(self.g_vars)
        for opt, variables, who in ((g_optimizer, self.g_vars, "generator"), (d_optimizer, self.d_vars, "discriminator")):
            if [id(v) for v in opt._trainable_variables] != [id(v) for v in variables]:
                raise ValueError(f"the {who} optimizer was built on other variables than the objective's {who}s")
        average = objective.average
        self.avg_vars = list(average.weights) if average is not None else []
        skip = {id(v) for v in self.g_vars + self.d_vars + self.avg_vars}
        skip |= {id(v) for m in objective.metrics for v in m.variables}
        self.other_vars, seen = [], set()
        for v in objective.variables:  # non-trainable state, frozen networks (TSIT's VGG), seed generators
            if id(v) not in skip and id(v) not in seen:
                seen.add(id(v))
                self.other_vars.append(v)
        tracked = {id(v) for v in objective.variables}
        missing = [v.path for v in self.g_vars + self.d_vars if id(v) not in tracked]
        if missing:
            raise ValueError(f"variables not tracked by the objective: {missing[:5]}")
        self._iterations = next(i for i, v in enumerate(g_optimizer.variables) if v is g_optimizer.iterations)
        if average is not None:
            index = {id(v): ("g", i) for i, v in enumerate(self.g_vars)}
            index.update({id(v): ("other", i) for i, v in enumerate(self.other_vars)})
            self._avg_sources = [(index[id(live)], live.trainable)
                                 for live in objective.network.weights]

    def initial_state(self) -> dict:
        return {"g": [v.value for v in self.g_vars], "d": [v.value for v in self.d_vars],
                "other": [v.value for v in self.other_vars],
                "g_opt": [v.value for v in self.g_optimizer.variables],
                "d_opt": [v.value for v in self.d_optimizer.variables],
                "average": [v.value for v in self.avg_vars]}

    def write_back(self, state: dict) -> None:
        """Assigns a state to the objective's and optimizers' variables (to checkpoint or export it)."""
        for variables, key in ((self.g_vars, "g"), (self.d_vars, "d"), (self.other_vars, "other"),
                               (self.g_optimizer.variables, "g_opt"), (self.d_optimizer.variables, "d_opt"),
                               (self.avg_vars, "average")):
            for v, value in zip(variables, state[key], strict=True):
                v.assign(value)

    def _scoped(self, fn, g, d, other):
        """fn() with the objective's variables read from (g, d, other); returns (fn(), updated other)."""
        mapping = [*zip(self.g_vars, g, strict=True), *zip(self.d_vars, d, strict=True),
                   *zip(self.other_vars, other, strict=True)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            out = fn()
        return out, [scope.get_current_value(v) for v in self.other_vars]

    def step(self, state: dict, batch: dict) -> tuple[dict, dict]:
        import jax

        objective = self.objective
        step = state["g_opt"][self._iterations]

        def g_loss(g, d, other):
            (terms, fakes), other = self._scoped(lambda: objective.generator_losses(batch, training=True), g, d, other)
            total = _total(terms)
            return self.g_optimizer.scale_loss(total), (total, terms, fakes, other)

        (_, (g_total, g_terms, fakes, other)), g_grads = jax.value_and_grad(g_loss, has_aux=True)(
            state["g"], state["d"], state["other"])
        g, g_opt = self.g_optimizer.stateless_apply(state["g_opt"], g_grads, state["g"])
        fakes = jax.tree_util.tree_map(jax.lax.stop_gradient, fakes)

        def d_loss(d, g, other):
            terms, other = self._scoped(lambda: objective.discriminator_losses(batch, fakes, step), g, d, other)
            total = _total(terms)
            return self.d_optimizer.scale_loss(total), (terms, other)

        (_, (d_terms, other)), d_grads = jax.value_and_grad(d_loss, has_aux=True)(state["d"], g, other)
        d, d_opt = self.d_optimizer.stateless_apply(state["d_opt"], d_grads, state["d"])
        average = state["average"]
        if average:
            cfg = objective.gan_config
            decay = ops.where(g_opt[self._iterations] <= cfg.ema_start_step, 0.0, cfg.ema_decay)
            live = {"g": g, "other": other}
            average = [decay * a + (1.0 - decay) * live[k][i] if trainable else live[k][i]
                       for a, ((k, i), trainable) in zip(average, self._avg_sources, strict=True)]
        logs = {"loss": g_total, **{f"g_{k}": v for k, v in g_terms.items()}, **{f"d_{k}": v for k, v in d_terms.items()}}
        return {"g": g, "d": d, "other": other, "g_opt": g_opt, "d_opt": d_opt, "average": average}, logs

    def jit(self, donate: bool = True):
        """The compiled step; with `donate`, the incoming state's buffers are reused (do not read them after)."""
        import jax

        return jax.jit(self.step, donate_argnums=(0,) if donate else ())

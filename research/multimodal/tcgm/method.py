"""`training.method: tcgm`: supervised NLL on labeled batches + alpha * (-TCg) on aligned unlabeled batches.

One step (TensorFlow backend, tools.train) takes ({"labeled": views, "unlabeled": views}, labels):
    loss = sum_m NLL(h_m(x_m), y) + alpha * gate * tcgm_loss(unlabeled log-probs, p, mode).
`gate` is the official phase switch (main.py: the MIG pass runs in an epoch only when every view's training
accuracy over the labeled pass exceeds --thresh): TcgmGate reads the per-view accuracy trackers every
`gate_every` steps, sets the gate variable to 0 or 1 and resets them. Both terms are in the one compiled
step (XLA-friendly); the gate is checkpointed beside the network. The loss terms are keras.ops (losses.py).
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import ops
from keras.src.losses import loss as loss_module  # Keras' distribution scaling of losses

from official.core.registry import register_training_method
from official.training.method import TrainingMethod
from research.multimodal.tcgm import losses
from research.multimodal.tcgm.config import TcgmTrainingConfig


class TcgmTrainer(keras.Model):
    """Wraps a TcgmNet; `inference_model` is the network (checkpointed, evaluated, exported)."""

    def __init__(self, network: keras.Model, cfg: TcgmTrainingConfig, **kwargs):
        super().__init__(**kwargs)
        if cfg.mode not in losses.MODES:
            raise ValueError(f"training.mode: expected one of {', '.join(losses.MODES)}, got {cfg.mode!r}")
        self.network, self.cfg = network, cfg
        self.gate = self.add_weight(shape=(), initializer="ones" if cfg.threshold < 0 else "zeros", trainable=False,
                                    name="tc_gate", aggregation="only_first_replica")
        # a variable, not a Python constant: a traced step serves any alpha (assign 0 for the supervised baseline)
        self.alpha = self.add_weight(shape=(), initializer=keras.initializers.Constant(cfg.alpha), trainable=False,
                                     name="tc_alpha", aggregation="only_first_replica")
        names = ["loss", "supervised", "tc_loss"] + [f"accuracy_view{m}" for m in range(network.num_views)]
        self.trackers = {k: keras.metrics.Mean(name=k) for k in names + ["accuracy"]}

    @property
    def inference_model(self) -> keras.Model:
        return self.network

    def checkpoint_extras(self) -> dict:
        return {"tcgm_gate": self.gate}

    def call(self, inputs, training=False):
        return self.network(inputs["labeled"] if "labeled" in inputs else inputs, training=training)

    def _accuracies(self, log_probs, labels):
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        hits = ops.cast(ops.argmax(log_probs, axis=-1) == labels[:, None], "float32")  # (B, M)
        for m in range(self.network.num_views):
            self.trackers[f"accuracy_view{m}"].update_state(hits[:, m])

    def terms(self, x, y, training: bool = True) -> dict:
        prior = self.network.prior()
        out = self.network(x["labeled"], training=training)
        supervised = losses.supervised_loss(out["log_probs"], y)
        unlabeled = self.network(x["unlabeled"], training=training)
        tc = losses.tcgm_loss(unlabeled["log_probs"], prior, self.cfg.mode)
        total = supervised + ops.cast(self.alpha * self.gate, tc.dtype) * tc
        return {"loss": total, "supervised": supervised, "tc_loss": tc, "log_probs": out["log_probs"]}

    def train_step(self, data):
        x, y = data[0], data[1]
        variables = self.network.trainable_variables
        with tf.GradientTape() as tape:
            terms = self.terms(x, y, training=True)
            loss = terms["loss"]
            if self.network.losses:
                loss = loss + ops.sum(ops.stack(self.network.losses))
            scaled = self.optimizer.scale_loss(loss_module.scale_loss_for_distribution(loss))
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
        for k in ("loss", "supervised", "tc_loss"):
            self.trackers[k].update_state(terms[k])
        self._accuracies(terms["log_probs"], y)
        return {k: t.result() for k, t in self.trackers.items() if k != "accuracy"}

    def test_step(self, data):
        x, y = data[0], data[1]
        out = self.network(x, training=False)
        self.trackers["supervised"].update_state(losses.supervised_loss(out["log_probs"], y))
        self._accuracies(out["log_probs"], y)
        labels = ops.cast(ops.reshape(y, (-1,)), "int32")
        self.trackers["accuracy"].update_state(ops.cast(ops.argmax(out["fused_log_probs"], -1) == labels, "float32"))
        return {k: t.result() for k, t in self.trackers.items() if k not in ("loss", "tc_loss")}

    @property
    def metrics(self):
        return list(self.trackers.values())


class TcgmGate(keras.callbacks.Callback):
    """Every `every` steps: gate = 1 if every view's accuracy on the labeled batches since the last check
    exceeds `threshold`, else 0 (main.py's per-epoch check); the accuracy trackers restart."""

    def __init__(self, trainer: TcgmTrainer, every: int, threshold: float):
        super().__init__()
        self.trainer, self.every, self.threshold = trainer, max(1, every), threshold

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.trainer.optimizer.iterations.numpy())
        if self.threshold < 0 or step % self.every:
            return
        views = [self.trainer.trackers[f"accuracy_view{m}"] for m in range(self.trainer.network.num_views)]
        passed = all(float(t.result()) > self.threshold for t in views)
        self.trainer.gate.assign(1.0 if passed else 0.0)
        for t in views:
            t.reset_state()


@register_training_method("tcgm")
class TcgmTraining(TrainingMethod):
    config_cls = TcgmTrainingConfig

    def wrap(self, model: keras.Model) -> keras.Model:
        return TcgmTrainer(model, self.config.training)

    def gate_every(self) -> int:
        if self.config.training.gate_every > 0:
            return self.config.training.gate_every
        labeled = self.task.num_labeled(self.config.train_data)
        return math.ceil(labeled / self.config.trainer.global_batch_size)

    def callbacks(self, model: keras.Model) -> list:
        return [TcgmGate(model, self.gate_every(), self.config.training.threshold)]

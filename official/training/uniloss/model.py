"""The UniLoss training model: the task's network, trained on -M~ instead of the compiled loss.

`fit` calls the wrapper, whose output is the network's, so the compiled metrics measure the network.
Only `compute_loss` is overridden (as the AutoAugment-KD distiller does), so the train step stays Keras'
own on every backend and under XLA. While training the loss is UniLoss plus the network's
regularisation terms (L2 weight decay); in validation it is the task's compiled loss (CE / BCE), so
validation losses compare across methods. The anchors come from a SeedGenerator owned by the wrapper:
a fresh, reproducible draw every step (per replica under tf.distribute, like the batch metric).
"""

from __future__ import annotations

import keras
from keras import ops

from official.losses import uniloss

METRICS = {"accuracy": uniloss.accuracy_uniloss, "binary_ap": uniloss.binary_ap_uniloss}
ACTIVATIONS = ("sigmoid", "none")


class UniLossModel(keras.Model):
    """Network + the UniLoss surrogate of `metric` (accuracy | binary_ap)."""

    def __init__(self, network: keras.Model, metric: str = "accuracy", num_single: int = 16,
                 score_activation: str = "sigmoid", gradient: str = "exact", anchor_seed: int = 0, **kwargs):
        super().__init__(name=kwargs.pop("name", "uniloss"), **kwargs)
        if metric not in METRICS:
            raise ValueError(f"training.metric: expected one of {', '.join(METRICS)}, got {metric!r}")
        if score_activation not in ACTIVATIONS:
            raise ValueError(f"training.score_activation: expected one of {', '.join(ACTIVATIONS)}, got {score_activation!r}")
        if gradient not in uniloss.GRADIENTS:
            raise ValueError(f"training.gradient: expected one of {', '.join(uniloss.GRADIENTS)}, got {gradient!r}")
        if num_single < 1:
            raise ValueError(f"training.num_single: expected >= 1, got {num_single}")
        self.network = network
        self.metric_name = metric
        self.num_single = int(num_single)
        self.score_activation = score_activation
        self.gradient = gradient
        self.seed_generator = keras.random.SeedGenerator(anchor_seed)

    @property
    def inference_model(self) -> keras.Model:
        return self.network

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def surrogate(self, y, y_pred):
        """-M~ of the batch (a scalar, float32)."""
        scores = ops.cast(y_pred, "float32")
        if self.score_activation == "sigmoid":
            scores = ops.sigmoid(scores)
        return METRICS[self.metric_name](scores, y, self.num_single, self.seed_generator, self.gradient)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not training:
            return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        loss = self.surrogate(y, y_pred)
        if self.losses:  # L2 weight decay of the network
            loss = loss + ops.cast(ops.sum(ops.stack([ops.cast(v, "float32") for v in self.losses])), "float32")
        return loss

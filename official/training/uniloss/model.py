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

from official.losses import uniloss, uniloss_pose

METRICS = {"accuracy": uniloss.accuracy_uniloss, "binary_ap": uniloss.binary_ap_uniloss, "pckh": None}
ACTIVATIONS = ("sigmoid", "none")


class UniLossModel(keras.Model):
    """Network + the UniLoss surrogate of `metric` (accuracy | binary_ap)."""

    def __init__(self, network: keras.Model, metric: str = "accuracy", num_single: int = 16,
                 score_activation: str = "sigmoid", gradient: str = "exact", anchor_seed: int = 0,
                 pckh_head_size: float = 6.2, pckh_max_positives: int = 40, **kwargs):
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
        if metric == "pckh" and gradient != "exact":
            raise ValueError("training.gradient: the pckh surrogate has only the exact gradient")
        self.pckh_head_size = float(pckh_head_size)
        self.pckh_max_positives = int(pckh_max_positives)
        self.seed_generator = keras.random.SeedGenerator(anchor_seed)

    @property
    def inference_model(self) -> keras.Model:
        return self.network

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def surrogate(self, y, y_pred):
        """-M~ of the batch (a scalar, float32)."""
        if self.metric_name == "pckh":
            return self._pckh(y, y_pred)
        scores = ops.cast(y_pred, "float32")
        if self.score_activation == "sigmoid":
            scores = ops.sigmoid(scores)
        return METRICS[self.metric_name](scores, y, self.num_single, self.seed_generator, self.gradient)

    def _pckh(self, y, y_pred):
        """PCKh surrogate of the final heatmaps against the keypoint task's targets: each joint sits at the
        peak of its finest target heatmap, its PCKh radius is 0.5 x `pckh_head_size` heatmap pixels."""
        heat = ops.cast(y_pred["heatmaps"] if isinstance(y_pred, dict) else y_pred, "float32")
        if self.score_activation == "sigmoid":
            heat = ops.sigmoid(heat)
        targets = ops.cast(y["targets"], "float32")
        finest = targets[:, -1] if len(targets.shape) == 5 else targets  # (B, h, w, K)
        bsz, h, w, k = ops.shape(finest)
        flat = ops.reshape(ops.transpose(finest, (0, 3, 1, 2)), (bsz, k, h * w))
        peak = ops.argmax(flat, axis=-1)
        joints = ops.cast(ops.stack([peak % w, peak // w], axis=-1), "float32")
        visible = ops.logical_and(ops.cast(y["valid"], "float32") > 0, ops.max(flat, axis=-1) > 0)
        head = ops.full((bsz,), self.pckh_head_size, "float32")
        positive = uniloss_pose.pckh_positive_mask(joints, head, visible, h, w)
        n = self.num_single
        return uniloss_pose.pckh_uniloss(heat, positive, self.pckh_max_positives, n_flip=n, n_random=n,
                                         n_nearby=max(n // 2, 1), seed=self.seed_generator)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not training:
            return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        loss = self.surrogate(y, y_pred)
        if self.losses:  # L2 weight decay of the network
            loss = loss + ops.cast(ops.sum(ops.stack([ops.cast(v, "float32") for v in self.losses])), "float32")
        return loss

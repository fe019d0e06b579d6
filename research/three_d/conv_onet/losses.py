"""ConvONet's objective and validation metric (keras.ops; `src/conv_onet/training.py`)."""

from __future__ import annotations

import math

import keras
from keras import ops


def occupancy_loss(occupancy, logits):
    """(B, T) targets in {0, 1}, (B, T) logits -> (B,) BCE with logits summed over the query points.

    Keras averages the per-example values over the (global) batch: `loss_i.sum(-1).mean()` of the code.
    """
    occupancy = ops.cast(occupancy, logits.dtype)
    per_point = ops.maximum(logits, 0.0) - logits * occupancy + ops.log1p(ops.exp(-ops.abs(logits)))
    return ops.sum(per_point, axis=-1)


def logit(probability: float) -> float:
    """Occupancy probability -> logit threshold (0.2 -> log(0.2 / 0.8))."""
    return math.log(probability) - math.log1p(-probability)


def occupancy_iou(occupancy, logits, threshold: float = 0.2):
    """(B,) IoU of {occupancy >= 0.5} and {sigmoid(logits) >= threshold} per example (ONet compute_iou).

    An example where both sets are empty counts as 1 (ONet divides 0 by 0).
    """
    gt = ops.cast(occupancy, "float32") >= 0.5
    pred = ops.cast(logits, "float32") >= logit(threshold)
    inter = ops.sum(ops.cast(gt & pred, "float32"), axis=-1)
    union = ops.sum(ops.cast(gt | pred, "float32"), axis=-1)
    return ops.where(union > 0, inter / ops.maximum(union, 1.0), 1.0)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class OccupancyIoU(keras.metrics.Mean):
    """Mean over examples of `occupancy_iou` (the validation metric the authors select models by)."""

    def __init__(self, threshold: float = 0.2, name: str = "iou", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(occupancy_iou(y_true, y_pred, self.threshold), sample_weight)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}

"""SIZER's metric (paper, Sec. 5): vertex-to-vertex error in mm between a predicted and the registered
garment of the same topology, keras.ops (runs under TF, JAX and XLA).

Per example: mean over vertices of the Euclidean distance; the metric averages examples (a batch
of unequal size counts each example once). Coordinates are metres, the result millimetres.
"""

from __future__ import annotations

import keras
from keras import ops

MM_PER_M = 1000.0


def vertex_errors_mm(pred, target):
    """(B,) mean Euclidean vertex distance in mm of predicted / target vertices (B, V, 3) in metres."""
    diff = ops.convert_to_tensor(pred, "float32") - ops.convert_to_tensor(target, "float32")
    return ops.mean(ops.sqrt(ops.sum(ops.square(diff), axis=-1)), axis=-1) * MM_PER_M


@keras.saving.register_keras_serializable(package="eccv20zoo")
class VertexError(keras.metrics.Metric):
    """Running mean of vertex_errors_mm over examples; `update_state(target, pred)` (Keras' order)."""

    def __init__(self, name: str = "v2v_mm", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        errors = vertex_errors_mm(y_pred, y_true)
        self.total.assign_add(ops.sum(errors))
        self.count.assign_add(ops.cast(ops.shape(errors)[0], "float32"))

    def result(self):
        return self.total / ops.maximum(self.count, 1.0)

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

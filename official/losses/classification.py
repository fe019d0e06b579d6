"""Classification losses (keras.ops only, so they run on every backend)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SparseLabelSmoothingCrossEntropy(keras.losses.Loss):
    """Cross-entropy from logits with integer labels and label smoothing.

    Keras' SparseCategoricalCrossentropy has no label smoothing; this matches PyTorch's
    `CrossEntropyLoss(label_smoothing=eps)`: targets (1 - eps) * one_hot + eps / num_classes.
    """

    def __init__(self, label_smoothing: float = 0.0, name: str = "cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        logits = ops.cast(y_pred, "float32")
        num_classes = ops.shape(logits)[-1]
        labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        log_probs = ops.log_softmax(ops.reshape(logits, (-1, num_classes)), axis=-1)
        nll = -ops.take_along_axis(log_probs, labels[:, None], axis=-1)[:, 0]
        if self.label_smoothing == 0.0:
            return nll
        smooth = -ops.mean(log_probs, axis=-1)
        return (1.0 - self.label_smoothing) * nll + self.label_smoothing * smooth

    def get_config(self) -> dict:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}

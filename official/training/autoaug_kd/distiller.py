"""The AutoAugment-KD training model: the student, plus a frozen teacher that sees the same batch.

`fit` calls the wrapper; the wrapper's output is the student's, so the compiled metrics measure the
student. The teacher runs in inference mode (frozen BatchNorm statistics) inside `compute_loss` on the
very `x` the student saw: the augmented tensor from tf.data, not a second draw of the augmentation.
Only `compute_loss` is overridden, so the step stays Keras' own on every backend and under XLA.
"""

from __future__ import annotations

import keras
from keras import ops

from official.losses.distillation import kd_kl


class Distiller(keras.Model):
    """Student + frozen teacher; loss = compiled CE + kd_weight * (T^2 KL - CE) while training."""

    def __init__(self, student: keras.Model, teacher: keras.Model, temperature: float, kd_weight: float, ce_fn, **kwargs):
        super().__init__(name=kwargs.pop("name", "distiller"), **kwargs)
        if not 0.0 <= kd_weight <= 1.0:
            raise ValueError(f"training.kd_weight: expected a value in [0, 1], got {kd_weight}")
        if temperature <= 0:
            raise ValueError(f"training.temperature: expected > 0, got {temperature}")
        self.student = student
        self.teacher = teacher
        self.teacher.trainable = False
        self.temperature = float(temperature)
        self.kd_weight = float(kd_weight)
        self.ce_fn = ce_fn
        self.kd_tracker = keras.metrics.Mean(name="kd_loss")

    @property
    def inference_model(self) -> keras.Model:
        return self.student

    def call(self, inputs, training=False):
        return self.student(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # The compiled loss (CE, label smoothing) plus the weight-decay terms, as without distillation.
        total = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        teacher_logits = ops.stop_gradient(self.teacher(x, training=False))
        kd = ops.mean(kd_kl(teacher_logits, y_pred, self.temperature))
        self.kd_tracker.update_state(kd)  # in validation too: how far the student is from its teacher
        if not training or self.kd_weight == 0.0:
            return total
        ce = ops.cast(self.ce_fn(y, y_pred), "float32")
        # (1 - w) CE + w KD + weight decay: the regulariser terms are not scaled by (1 - w).
        return ops.cast(total, "float32") + self.kd_weight * (kd - ce)

    @property
    def metrics(self):
        return [*super().metrics, self.kd_tracker]

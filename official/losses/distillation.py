"""Hinton knowledge distillation: T^2 * KL(softmax(teacher / T) || softmax(student / T)).

The T^2 factor keeps the gradient of the soft term about the same size whatever the temperature (the
gradient of the tempered KL scales as 1/T^2), so the CE/KD balance `kd_weight` means the same at T=1
and T=4. Returned per example (summed over classes), in float32 whatever the compute dtype.
"""

from __future__ import annotations

from keras import ops


def kd_kl(teacher_logits, student_logits, temperature: float = 1.0):
    """Per-example T^2 * KL(p_t || p_s) with p = softmax(logits / T); teacher gets no gradient."""
    t = ops.stop_gradient(ops.cast(teacher_logits, "float32")) / temperature
    s = ops.cast(student_logits, "float32") / temperature
    log_pt = ops.log_softmax(t, axis=-1)
    log_ps = ops.log_softmax(s, axis=-1)
    kl = ops.sum(ops.exp(log_pt) * (log_pt - log_ps), axis=-1)
    return kl * (temperature**2)


def kd_loss(labels, teacher_logits, student_logits, temperature: float, kd_weight: float, ce_fn):
    """(1 - kd_weight) * ce_fn(labels, student) + kd_weight * mean(T^2 KL): the AutoAugment-KD loss.

    `ce_fn(labels, logits)` is the task's (label-smoothed) cross-entropy, a scalar.
    """
    ce = ops.cast(ce_fn(labels, student_logits), "float32")
    kd = ops.mean(kd_kl(teacher_logits, student_logits, temperature))
    return (1.0 - kd_weight) * ce + kd_weight * kd

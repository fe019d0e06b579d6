"""HAN's weakly supervised objective: individual-guided BCE with modality label smoothing (keras.ops only).

main_avvp.py train(): probabilities clamped to [1e-7, 1 - 1e-7];
L = BCE(global, y) + BCE(audio, eps_a y + (1 - eps_a) / 2) + BCE(visual, eps_v y + (1 - eps_v) / 2),
eps_a = 1.0 (audio targets stay 0/1), eps_v = 0.9 (visual: 1 -> 0.95, 0 -> 0.05); torch BCELoss = the mean
over batch and classes.
"""

from __future__ import annotations

from keras import ops

EPS = 1e-7  # main_avvp.py's clamp
LOSS_TERMS = ("global_loss", "audio_loss", "visual_loss")


def smooth_targets(labels, eps: float):
    """Label smoothing towards 0.5: eps * y + (1 - eps) * 0.5."""
    return eps * labels + (1.0 - eps) * 0.5


def bce(prob, target):
    """Mean binary cross-entropy of clamped probabilities."""
    p = ops.clip(prob, EPS, 1.0 - EPS)
    return -ops.mean(target * ops.log(p) + (1.0 - target) * ops.log(1.0 - p))


def han_loss(labels, outputs, audio_smoothing: float = 1.0, visual_smoothing: float = 0.9):
    """(total, {global_loss, audio_loss, visual_loss}) for video-level labels (B, C) and HAN's outputs."""
    labels = ops.cast(labels, outputs["global_prob"].dtype)
    terms = {
        "global_loss": bce(outputs["global_prob"], labels),
        "audio_loss": bce(outputs["a_prob"], smooth_targets(labels, audio_smoothing)),
        "visual_loss": bce(outputs["v_prob"], smooth_targets(labels, visual_smoothing)),
    }
    return terms["global_loss"] + terms["audio_loss"] + terms["visual_loss"], terms

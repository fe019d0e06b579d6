"""Stage 2's colouriser losses (keras.ops): luminance L1, AdaIN content and style losses.

- luminance: |Y(out) - gray|_1 with Y = 0.299 R + 0.587 G + 0.114 B (ITU-R 601, PIL's 'L'), the gray input
  replicated to 3 channels (official weight 10);
- content: MSE(relu3_4 of VGG(out), t), t the AdaIN target the decoder got (official weight 1 * 0.05);
- style: sum over relu1_1, relu2_1, relu3_1, relu3_4 of MSE(channel means) + MSE(channel stds) between
  out and the reference (pytorch-AdaIN's calc_mean_std: unbiased variance + 1e-5; weight 2 * 0.05).
"""

from __future__ import annotations

from keras import ops

LUMA = (0.299, 0.587, 0.114)


def luminance(rgb):
    """(B, H, W, 3) -> (B, H, W, 1)."""
    return ops.sum(ops.cast(rgb, "float32") * ops.convert_to_tensor(LUMA, "float32"), axis=-1, keepdims=True)


def luminance_l1(rgb, gray):
    """Mean |Y(rgb) - gray| over pixels; `gray` (B, H, W, 1 or 3 replicated)."""
    gray = ops.cast(gray, "float32")
    return ops.mean(ops.abs(ops.repeat(luminance(rgb), gray.shape[-1], axis=-1) - gray))


def content_loss(features, target):
    return ops.mean(ops.square(ops.cast(features, "float32") - ops.cast(target, "float32")))


def mean_std(x, eps: float = 1e-5):
    """Per-sample, per-channel mean and std over H, W (unbiased variance, as pytorch-AdaIN)."""
    x = ops.cast(x, "float32")
    n = x.shape[1] * x.shape[2]
    mean = ops.mean(x, axis=(1, 2))
    var = ops.sum(ops.square(x - mean[:, None, None, :]), axis=(1, 2)) / (n - 1)
    return mean, ops.sqrt(var + eps)


def style_loss(out_features, ref_features):
    """Sum over layers of MSE(means) + MSE(stds)."""
    total = 0.0
    for out, ref in zip(out_features, ref_features, strict=True):
        (om, os_), (rm, rs) = mean_std(out), mean_std(ref)
        total = total + ops.mean(ops.square(om - rm)) + ops.mean(ops.square(os_ - rs))
    return total

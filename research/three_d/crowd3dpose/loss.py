"""The feet-weighted heatmap MSE of Crowd3DPose (authors' loss/criterion.py `criterion_mse`).

Per keypoint, the squared error is averaged over the H x W heatmap; keypoint k is weighted by
1 / (17 + 6 lambda) for the 17 body keypoints and lambda / (17 + 6 lambda) for the 6 foot keypoints
(lambda = 1.5: 1/26 and 1.5/26); the weighted values are averaged over batch and keypoints (torch.mean
of the (batch, 23) products). The weights sum to 1 over the keypoints, so the result is 1/23 of the
weighted sum per sample. keras.ops only; channels-last heatmaps (batch, H, W, 23).
"""

from __future__ import annotations

from keras import ops

NUM_BODY, NUM_FEET = 17, 6


def feet_weights(feet_lambda: float = 1.5, num_body: int = NUM_BODY, num_feet: int = NUM_FEET) -> list[float]:
    """[1 / (17 + 6 l)] * 17 + [l / (17 + 6 l)] * 6."""
    total = num_body + num_feet * feet_lambda
    return [1.0 / total] * num_body + [feet_lambda / total] * num_feet


def feet_weighted_mse(pred, target, feet_lambda: float = 1.5, valid=None):
    """mean over (batch, K) of w_k * mean_{H, W} (pred - target)^2; `valid` (batch, K) > 0 keeps a
    keypoint's target (else the target is a zero map, as the zoo's RSN loss does for unlabelled ones)."""
    pred = ops.cast(pred, "float32")
    target = ops.cast(target, "float32")
    if valid is not None:
        keep = ops.cast(ops.reshape(ops.cast(valid, "float32"), (-1, pred.shape[-1])) > 0, "float32")
        target = target * keep[:, None, None, :]
    per_keypoint = ops.mean(ops.square(pred - target), axis=(1, 2))
    weights = ops.convert_to_tensor(feet_weights(feet_lambda), "float32")
    return ops.mean(per_keypoint * weights[None, :])

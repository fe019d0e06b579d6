"""Heatmap MSE losses of top-down pose estimators: masked MSE, OHKM MSE and RSN/MSPN's multi-level sum.

Facts from the RSN authors' code (caiyuanhao1998/RSN lib/utils/loss.py `JointsL2Loss` and
exps/RSN18.coco/network.py `RSN._calculate_loss`; own code, not a copy):
- plain level loss: weight = valid > 1 per keypoint; the TARGET is multiplied by the weight (the
  prediction is not), so a keypoint that is not visible (COCO v <= 1) is pushed towards a zero map;
  `nn.MSELoss(reduction="mean")` over the K x H x W values of each sample, then the mean over the batch
  (= the mean over every value, the samples having equal sizes);
- OHKM level loss: per-keypoint mean squared error over H x W, multiplied by (valid > 0), the top 8 of
  the K values (zeros of masked keypoints included: with fewer than 8 labelled keypoints the mean
  still divides by 8), their mean, then the mean over the batch;
- RSN total: for every stage and every level (coarse -> fine) the finest level uses OHKM (cfg.LOSS.OHKM)
  and the three coarser ones the plain loss divided by 4; target kernels "coarse to fine": the last
  stage's levels use kernels index 1..4 of the stack (11, 9, 7, 5 px), earlier stages 0..3 (15, 11, 9, 7);
  the total is the plain sum over stages and levels;
- the targets are Gaussians with peak 255 (dataset/JointsDataset.py `generate_heatmap`: GaussianBlur of a
  one-hot map, divided by max / 255), so predictions regress 0..255 and the losses are in those units;
  nothing here rescales them.
Channels-last: heatmaps (batch, H, W, K). keras.ops only (top_k: XLA and JAX fine).
"""

from __future__ import annotations

import keras
from keras import ops


def _valid(valid, num_keypoints: int):
    """valid (batch, K) or (batch, K, 1) -> float32 (batch, K)."""
    return ops.reshape(ops.cast(valid, "float32"), (-1, num_keypoints))


def keypoint_mse(pred, target, valid, threshold: float = 1.0):
    """Mean over batch, H, W, K of (pred - target * [valid > threshold])^2 (`JointsL2Loss()`)."""
    pred = ops.cast(pred, "float32")
    target = ops.cast(target, "float32")
    weight = ops.cast(_valid(valid, pred.shape[-1]) > threshold, "float32")
    return ops.mean(ops.square(pred - target * weight[:, None, None, :]))


def per_keypoint_mse(pred, target):
    """(batch, K) mean over H, W of the squared error."""
    return ops.mean(ops.square(ops.cast(pred, "float32") - ops.cast(target, "float32")), axis=(1, 2))


def keypoint_ohkm_mse(pred, target, valid, top_k: int = 8, threshold: float = 0.0):
    """Online hard keypoint mining (`JointsL2Loss(has_ohkm=True, topk=8)`): per sample, the mean of the
    `top_k` largest per-keypoint MSEs after zeroing keypoints with valid <= threshold; batch mean."""
    per = per_keypoint_mse(pred, target)
    num_keypoints = per.shape[-1]
    if num_keypoints is not None and top_k > num_keypoints:
        raise ValueError(f"keypoint_ohkm_mse: top_k {top_k} > {num_keypoints} keypoints")
    per = per * ops.cast(_valid(valid, num_keypoints) > threshold, "float32")
    hardest, _ = ops.top_k(per, top_k, sorted=False)
    return ops.mean(ops.mean(hardest, axis=-1))


def rsn_loss(
    stage_heatmaps,
    targets,
    valid,
    ohkm: bool = True,
    top_k: int = 8,
    coarse_to_fine: bool = True,
    coarse_level_weight: float = 0.25,
    return_terms: bool = False,
):
    """RSN / MSPN multi-stage, multi-level heatmap loss (`RSN._calculate_loss`).

    Args:
        stage_heatmaps: (batch, stages, levels, H, W, K) predictions, levels coarse -> fine (the model's
            "stage_heatmaps" output).
        targets: (batch, kernels, H, W, K) Gaussian targets for kernels coarse -> fine, (15, 11, 9, 7, 5) px
            in the official COCO config; `levels + 1` kernels are needed with coarse_to_fine, `levels`
            without.
        valid: (batch, K) or (batch, K, 1) keypoint visibility after augmentation (COCO v: 0 unlabeled or
            outside the crop, 1 occluded, 2 visible).
        ohkm: the finest level uses OHKM (cfg.LOSS.OHKM = True).
        top_k: keypoints kept by OHKM (cfg.LOSS.TOPK = 8).
        coarse_to_fine: the last stage takes the next sharper kernel per level (cfg.LOSS.COARSE_TO_FINE).
        coarse_level_weight: weight of every level but the finest (the code divides them by 4).
        return_terms: also return {"stage{s}_level{l}": weighted term}.

    Returns the scalar total (sum of the weighted terms), and the terms when asked.
    """
    num_stages, num_levels = stage_heatmaps.shape[1], stage_heatmaps.shape[2]
    needed = num_levels + (1 if coarse_to_fine else 0)
    if targets.shape[1] is not None and targets.shape[1] < needed:
        raise ValueError(f"rsn_loss: {num_levels} levels need {needed} target kernels, got {targets.shape[1]}")
    total = 0.0
    terms = {}
    for s in range(num_stages):
        shift = 1 if (coarse_to_fine and s == num_stages - 1) else 0
        for j in range(num_levels):
            pred = stage_heatmaps[:, s, j]
            target = targets[:, j + shift]
            if j == num_levels - 1 and ohkm:
                term = keypoint_ohkm_mse(pred, target, valid, top_k)
            else:
                term = keypoint_mse(pred, target, valid)
            if j < num_levels - 1:
                term = term * coarse_level_weight
            terms[f"stage{s}_level{j}"] = term
            total = total + term
    return (total, terms) if return_terms else total


@keras.saving.register_keras_serializable(package="eccv20zoo")
class RSNLoss(keras.losses.Loss):
    """`rsn_loss` as a Keras loss: y_true = {"targets": (B, kernels, H, W, K), "valid": (B, K)},
    y_pred = the model's "stage_heatmaps" (B, stages, levels, H, W, K)."""

    def __init__(
        self,
        ohkm: bool = True,
        top_k: int = 8,
        coarse_to_fine: bool = True,
        coarse_level_weight: float = 0.25,
        name: str = "rsn_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.ohkm = ohkm
        self.top_k = top_k
        self.coarse_to_fine = coarse_to_fine
        self.coarse_level_weight = coarse_level_weight

    def call(self, y_true, y_pred):
        return rsn_loss(
            y_pred, y_true["targets"], y_true["valid"], self.ohkm, self.top_k, self.coarse_to_fine,
            self.coarse_level_weight,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "ohkm": self.ohkm,
            "top_k": self.top_k,
            "coarse_to_fine": self.coarse_to_fine,
            "coarse_level_weight": self.coarse_level_weight,
        }

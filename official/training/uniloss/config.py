"""UniLoss's `training` section: which metric the surrogate interpolates, and its anchors."""

from __future__ import annotations

import dataclasses

from official.core.config import TrainingMethodConfig


@dataclasses.dataclass
class UniLossConfig(TrainingMethodConfig):
    method: str = "uniloss"
    metric: str = "accuracy"  # accuracy (multi-class, integer labels) | binary_ap (one logit, 0/1 targets) | pckh (keypoint heatmaps)
    num_single: int = 16  # anchors of each kind (good, nearby, bad): 1 + 3 x 16 = 49 anchors (official nsingle)
    score_activation: str = "sigmoid"  # scores = sigmoid(logits) (official: ResNet sig=True, MNIST net ends in a sigmoid) | none
    gradient: str = "exact"  # exact (autodiff of the interpolation) | official (the repo's hand-written backward, see the card)
    anchor_seed: int = 0  # seed of the anchor stream (one fresh draw per step)
    pckh_head_size: float = 6.2  # pckh: SC_BIAS x head diagonal in heatmap pixels, one value for every person (reconstructed, see the card)
    pckh_max_positives: int = 40  # pckh: heatmap cells kept per joint inside the PCKh radius (>= the cells within 0.5 x pckh_head_size)

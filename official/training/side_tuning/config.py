"""Side-Tuning's `training` section: base weights, side initialisation and the alpha schedule."""

from __future__ import annotations

import dataclasses

from official.core.config import TrainingMethodConfig


@dataclasses.dataclass
class SideTuningConfig(TrainingMethodConfig):
    method: str = "side_tuning"
    base_checkpoint: str = ""  # base weights (.weights.h5 / checkpoint), e.g. converted resnet44-cifar.pth; "" = random base
    base_classes: int = 0  # classes of the base checkpoint's head (dropped); 0 = it has none (the official resnet44-cifar.pth)
    side_init: str = "distill"  # distill (regress the base feature first) | checkpoint (side_checkpoint into every side) | random
    side_checkpoint: str = ""  # side_init=checkpoint: FCN4 weights, e.g. converted fcn4-cifar.pth (`--model=fcn4_side`)
    distill_steps: int = 200  # side_init=distill: Adam steps of MSE(S(x), B(x)) on training images
    distill_lr: float = 1e-3  # side_init=distill: Adam learning rate
    alpha_schedule: str = "learned"  # learned (alpha = sigmoid(a), trained) | curriculum (alpha_start -> alpha_end over each task)
    alpha_start: float = 1.0  # curriculum: alpha at a task's first step (all base)
    alpha_end: float = 0.0  # curriculum: alpha at its last step

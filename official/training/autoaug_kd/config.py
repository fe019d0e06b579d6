"""AutoAugment-KD's `training` section: the frozen teacher and the distillation loss."""

from __future__ import annotations

import dataclasses

from official.core.config import ModelConfig, TrainingMethodConfig


@dataclasses.dataclass
class KDConfig(TrainingMethodConfig):
    method: str = "autoaug_kd"
    teacher: ModelConfig = dataclasses.field(default_factory=ModelConfig)  # registered teacher model and its arguments
    teacher_checkpoint: str = ""  # teacher weights: a MODEL_DIR, a checkpoint prefix or a .weights.h5
    temperature: float = 1.0  # T in softmax(logits / T) (paper value unverified: 1)
    kd_weight: float = 0.5  # lambda: loss = (1 - lambda) CE + lambda T^2 KL (paper value unverified: 0.5)

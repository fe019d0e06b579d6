"""The `task:` section of Sketch2Photo experiments (TF-free)."""

from __future__ import annotations

import dataclasses

from official.tasks.image_translation_config import TranslationTaskConfig


@dataclasses.dataclass
class Sketch2PhotoTaskConfig(TranslationTaskConfig):
    name: str = "sketch2photo"  # registered Task (research/generative/sketch2photo/task.py)
    stage: int = 1  # 1: sketch -> gray photo (1 channel, noise composition); 2: gray -> RGB colouriser
    noise_folder: str = ""  # stage 1: noise-stroke images; "" = ROOT/train_noise (else other sketches stand in)

"""Game of Noise's `training` section: Gaussian / speckle noise training or adversarial noise training."""

from __future__ import annotations

import dataclasses

from official.core.config import TrainingMethodConfig


@dataclasses.dataclass
class NoiseConfig(TrainingMethodConfig):
    method: str = "game_of_noise"
    mode: str = "gauss"  # gauss (fixed sigma) | gauss_mult (ImageNet-C's 5 sigmas per image) | speckle | ant
    sigma: float = 0.5  # gauss: noise std on [0, 1] images (the paper's best single sigma)
    p_clean: float = 0.5  # fraction of each batch left clean (the first round(p B) images)
    generator: str = "1x1"  # ant: 1x1 (pixel-wise) | 3x3 (locally correlated) noise generator
    epsilon: float = 135.0  # ant: L2 norm of the noise on [0, 1] images (135 at 224x224x3, ~0.35 RMS per value)
    generator_lr: float = 1e-4  # ant: Adam learning rate of the generator's ascent step
    adversarial_fraction: float = 0.3  # ant: fraction of the batch noised by the live generator
    replay_slots: int = 10  # ant: generator snapshots kept for experience replay (the rest of the batch)
    snapshot_every: int = 0  # ant: steps between snapshots; 0 = once per epoch (the replay starts after epoch 0)

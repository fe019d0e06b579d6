"""The `training` section of adversarial methods (`training.method: gan`)."""

from __future__ import annotations

import dataclasses

from official.core.config import TrainingMethodConfig


@dataclasses.dataclass
class GANConfig(TrainingMethodConfig):
    method: str = "gan"
    objective: str = ""  # a registered objective (official/training/gan/method.py): the networks and losses
    gan_loss: str = "lsgan"  # lsgan | hinge | nonsaturating (official/losses/gan.py)
    # The discriminators' Adam: the trainer's schedule with its base rate x d_lr_multiplier (SPADE/TSIT's
    # TTUR uses G lr / 2 and D lr x 2, i.e. a multiplier of 4 on a halved trainer rate).
    d_lr_multiplier: float = 1.0
    d_beta_1: float = -1.0  # < 0: the trainer optimizer's beta_1
    d_beta_2: float = -1.0  # < 0: the trainer optimizer's beta_2
    ema_decay: float = 0.0  # > 0: an exponential moving average of the generator (COCO-FUNIT: 0.999) is exported
    ema_start_step: int = 0  # before this step the average copies the generator (imaginaire's start_iteration)
    pool_size: int = 0  # > 0: discriminators see fakes from a history of this many images (CycleGAN: 50)
    sample_every_n_steps: int = 0  # > 0: a grid of translated eval images to TensorBoard (MODEL_DIR/samples)
    sample_count: int = 4  # images in that grid
    # > 1: the generators step only on every N-th step (WGAN-GP's n_critic, TopoGAN 5); the discriminators step
    # on every step, and the N-th is counted by their optimizer's iterations (step % N == 0 steps G)
    generator_every: int = 1
    objective_args: dict = dataclasses.field(default_factory=dict)  # loss weights etc. of the objective

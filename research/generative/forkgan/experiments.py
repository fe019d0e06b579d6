"""ForkGAN experiments: the official recipe on Alderley and BDD100K, and a CPU small run.

Recipe (zhengziqiang/ForkGAN main.py defaults + scripts/*_train.sh): Adam lr 2e-4, beta1 0.5 (beta2 0.999) for
G, the classifier and every D; batch 1; lr constant for epoch_step = 10 epochs, then linear to 0 at the last
epoch (official: per epoch, lr (E - e) / (E - 10); here per step); an epoch = min(|A|, |B|) images; LSGAN,
L1 weight 10, n_d 2, n_scale 2, ndf 64 (df 32 per D), a history of 50 per fake kind; resize to (load, 2 load),
random crop (fine, 2 fine), flips. Alderley: 20 epochs, 286x572 -> 256x512; BDD100K: 10 epochs (so the rate
never decays), 572x1144 -> 512x1024.
"""

from __future__ import annotations

from official.core.config import ExperimentConfig, RuntimeConfig, ScheduleConfig
from official.core.registry import register_experiment
from official.training.gan.config import GANConfig
from official.vision.gan.experiments import cyclegan_trainer, translation_experiment

ALDERLEY_STEPS_PER_EPOCH = 11686  # min(day 11,686, night 13,800) training frames
BDD100K_STEPS_PER_EPOCH = 27971  # min(night 27,971, day 36,728)


def forkgan_training(**objective_args) -> GANConfig:
    return GANConfig(objective="forkgan", gan_loss="lsgan", pool_size=50, objective_args=objective_args)


@register_experiment("forkgan_gf64_alderley")
def forkgan_gf64_alderley() -> ExperimentConfig:
    """Alderley night -> day (FRAMESA / FRAMESB, first 4/5 of each run): 20 epochs of batch 1 at 256x512."""
    trainer = cyclegan_trainer(10, 10, steps_per_epoch=ALDERLEY_STEPS_PER_EPOCH)
    return translation_experiment("forkgan_gf64", "alderley", trainer, (286, 572), (256, 512), forkgan_training(),
                                  source="alderley")


@register_experiment("forkgan_gf64_bdd100k")
def forkgan_gf64_bdd100k() -> ExperimentConfig:
    """BDD100K night -> daytime by attributes.timeofday: 10 epochs of batch 1 at 512x1024 (constant rate)."""
    trainer = cyclegan_trainer(10, 0, steps_per_epoch=BDD100K_STEPS_PER_EPOCH)
    trainer.lr_schedule = ScheduleConfig(name="constant", base_lr=2e-4)
    return translation_experiment("forkgan_gf64", "bdd100k", trainer, (572, 1144), (512, 1024), forkgan_training(),
                                  source="bdd100k_timeofday")


# The CPU small run on `python -m tools.make_domains --kind=night_day --out=data/night_day` (36 px squares
# resized to 36x72, cropped to 32x64): the tiny generator (gf 8, 1 + 2 x 2 blocks), n_d 2 three-level Ds of
# 8 filters, an 8-filter classifier, batch 4, Adam 2e-4 held for 2/3 of the run, then decayed.
SMALL_STEPS = 300
SMALL_OBJECTIVE = {"d_filters": 8, "d_levels": 3, "cls_filters": 8}


@register_experiment("forkgan_tiny_night_day")
def forkgan_tiny_night_day() -> ExperimentConfig:
    trainer = cyclegan_trainer(2, 1, steps_per_epoch=SMALL_STEPS // 3, batch=4)
    trainer.steps_per_loop = SMALL_STEPS // 3
    trainer.log_every_n_steps = 50
    trainer.validation_every_n_loops = 0
    training = forkgan_training(**SMALL_OBJECTIVE)
    training.sample_every_n_steps = SMALL_STEPS
    return translation_experiment("forkgan_tiny", "night_day", trainer, (36, 72), (32, 64), training,
                                  RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False))

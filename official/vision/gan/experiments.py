"""CycleGAN experiments: the official recipe (the reference the translation methods extend) and a CPU small run.

Recipe (pytorch-CycleGAN-and-pix2pix, train options): Adam lr 2e-4, betas (0.5, 0.999), batch 1, 100 epochs
at the constant rate then 100 epochs of linear decay to 0 (lr_policy linear; here per step: a "warm-up" from
2e-4 to 2e-4 holds the rate, then the linear schedule falls to 0), LSGAN, lambda_A = lambda_B = 10, identity
0.5, a history of 50 fakes, load 286 / crop 256 with flips; the same rate for both players.
"""

from __future__ import annotations

from official.core.config import (
    ExperimentConfig,
    ExportConfig,
    OptimizerConfig,
    RuntimeConfig,
    ScheduleConfig,
    TrainerConfig,
    model_config,
)
from official.core.registry import register_experiment
from official.tasks.image_translation_config import TranslationDataConfig, TranslationTaskConfig
from official.training.gan.config import GANConfig


def cyclegan_trainer(epochs_constant: float, epochs_decay: float, steps_per_epoch: int = 0, batch: int = 1,
                     base_lr: float = 2e-4) -> TrainerConfig:
    return TrainerConfig(
        epochs=int(epochs_constant + epochs_decay),
        steps_per_epoch=steps_per_epoch,
        global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.5, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="linear", base_lr=base_lr, warmup_epochs=epochs_constant,
                                   warmup_start_lr=base_lr, min_lr=0.0),
        checkpoints_to_keep=3,
        log_every_n_steps=100,
    )


def _hw(size) -> tuple[int, int]:
    return (int(size), int(size)) if isinstance(size, int) else tuple(int(s) for s in size)


def translation_experiment(model: str, path: str, trainer: TrainerConfig, load, crop,
                           training: GANConfig, runtime: RuntimeConfig | None = None, source: str = "unpaired",
                           **model_args) -> ExperimentConfig:
    """`load` / `crop`: a side (square) or (height, width); `source`: how the domains are listed."""
    load, crop = _hw(load), _hw(crop)
    return ExperimentConfig(
        task=TranslationTaskConfig(),
        model=model_config(model, image_size=crop, **model_args),
        train_data=TranslationDataConfig(path=path, split="train", load_size=load, crop_size=crop, source=source),
        eval_data=TranslationDataConfig(path=path, split="test", load_size=crop, crop_size=crop,
                                        horizontal_flip=False, source=source),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model",), verify_examples=2),
        training=training,
    )


@register_experiment("cyclegan_resnet9_horse2zebra")
def cyclegan_resnet9_horse2zebra() -> ExperimentConfig:
    """CycleGAN on horse2zebra (1,067 / 1,334 training images): 200 epochs of batch 1."""
    return translation_experiment("cyclegan_resnet9", "horse2zebra", cyclegan_trainer(100, 100), 286, 256,
                                  GANConfig(objective="cyclegan", gan_loss="lsgan", pool_size=50))


# The CPU small run on `python -m tools.make_domains --out=data/domains`: outlined shapes (A) <-> filled
# coloured shapes (B) at 32 px, the tiny generator (8 filters, 2 blocks), a 16-filter 2-layer PatchGAN,
# batch 4, Adam 2e-4 held for 2/3 of the run, then decayed.
SMALL_STEPS = 600


@register_experiment("cyclegan_tiny_domains")
def cyclegan_tiny_domains() -> ExperimentConfig:
    trainer = cyclegan_trainer(2, 1, steps_per_epoch=SMALL_STEPS // 3, batch=4)
    trainer.steps_per_loop = SMALL_STEPS // 3
    trainer.log_every_n_steps = 50
    trainer.validation_every_n_loops = 0
    training = GANConfig(objective="cyclegan", gan_loss="lsgan", pool_size=50, sample_every_n_steps=200,
                         objective_args={"d_filters": 16, "d_layers": 2})
    return translation_experiment("cyclegan_tiny", "domains", trainer, 36, 32, training,
                                  RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False))

"""TSIT experiments: the official scripts' recipes (spec card "Per-task settings") and a CPU small run.

Recipe (TSIT/SPADE train options): Adam betas (0, 0.9) with TTUR: G lr = 2e-4 / 2 = 1e-4, D lr = 2e-4 x 2 =
4e-4 (here: trainer base_lr 1e-4, training.d_lr_multiplier 4); one D step per G step; the rate is held for
`niter` epochs and decays linearly to 0 over `niter_decay` epochs (G and D together); hinge loss, 2
discriminators of 3 layers (4 in SIS), xavier init gain 0.02. The official train_scripts/*.sh set
`--niter` only for AST/MMIS (niter_decay keeps SPADE's default 0: a constant rate) and 100 + 100 for SIS.
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

G_LR, D_MULTIPLIER = 1e-4, 4.0  # TTUR: 2e-4 halved for G, doubled for D


def tsit_trainer(niter: float, niter_decay: float, batch: int, steps_per_epoch: int = 0) -> TrainerConfig:
    return TrainerConfig(
        epochs=int(niter + niter_decay),
        steps_per_epoch=steps_per_epoch,
        global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.0, beta_2=0.9, epsilon=1e-8),
        lr_schedule=(ScheduleConfig(name="linear", base_lr=G_LR, warmup_epochs=niter, warmup_start_lr=G_LR, min_lr=0.0)
                     if niter_decay > 0 else ScheduleConfig(name="constant", base_lr=G_LR)),
        checkpoints_to_keep=3,
        log_every_n_steps=100,
    )


def tsit_training(lambda_vgg: float, lambda_feat: float, **objective_args) -> GANConfig:
    return GANConfig(objective="tsit", gan_loss="hinge", d_lr_multiplier=D_MULTIPLIER,
                     objective_args={"lambda_vgg": lambda_vgg, "lambda_feat": lambda_feat,
                                     "vgg_weights": "vgg19_torch.weights.h5", **objective_args})


def tsit_experiment(model: str, path: str, size: tuple[int, int], trainer: TrainerConfig, training: GANConfig,
                    source: str = "unpaired", runtime: RuntimeConfig | None = None, **model_args) -> ExperimentConfig:
    return ExperimentConfig(
        task=TranslationTaskConfig(name="tsit_translation"),
        model=model_config(model, image_size=size, **model_args),
        train_data=TranslationDataConfig(source=source, path=path, split="train", load_size=size, crop_size=size),
        eval_data=TranslationDataConfig(source=source, path=path, split="test" if source == "unpaired" else "val",
                                        load_size=size, crop_size=size, horizontal_flip=False),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model",), verify_examples=2),
        training=training,
    )


@register_experiment("tsit_ast_summer2winter")
def tsit_ast_summer2winter() -> ExperimentConfig:
    """Yosemite summer -> winter (CycleGAN layout), 256x256, 200 epochs, batch 1, vgg 1, feat 1."""
    return tsit_experiment("tsit_ast", "summer2winter_yosemite", (256, 256), tsit_trainer(200, 0, 1),
                           tsit_training(1.0, 1.0))


@register_experiment("tsit_ast_photo2art")
def tsit_ast_photo2art() -> ExperimentConfig:
    """photo -> art (CycleGAN layout, e.g. photo2monet), 256x256, 40 epochs, batch 1, vgg 1, feat 2."""
    return tsit_experiment("tsit_ast", "photo2art", (256, 256), tsit_trainer(40, 0, 1), tsit_training(1.0, 2.0))


@register_experiment("tsit_ast_256x512_bdd_day2night")
def tsit_ast_256x512_bdd_day2night() -> ExperimentConfig:
    """BDD100K day -> night, 256x512, 10 epochs, vgg 2, feat 1. Data: ROOT/trainA.txt, trainB.txt, testA.txt,
    testB.txt = the official bdd100k_lists day2night day/night lists (lines images/100k/<split>/<id>.jpg)."""
    return tsit_experiment("tsit_ast_256x512", "bdd100k", (256, 512), tsit_trainer(10, 0, 1), tsit_training(2.0, 1.0))


@register_experiment("tsit_ast_256x512_bdd_weather")
def tsit_ast_256x512_bdd_weather() -> ExperimentConfig:
    """MMIS: BDD100K sunny -> {cloudy, rainy, snowy, night} exemplars, 256x512, 20 epochs, vgg 1, feat 1
    (one list pair per target condition, as the official weather lists)."""
    return tsit_experiment("tsit_ast_256x512", "bdd100k", (256, 512), tsit_trainer(20, 0, 1), tsit_training(1.0, 1.0))


@register_experiment("tsit_sis_cityscapes")
def tsit_sis_cityscapes() -> ExperimentConfig:
    """SIS on Cityscapes (leftImg8bit + gtFine), 256x512, batch 16, 100 + 100 epochs, vgg 20, feat 10, KLD 0.05,
    4-layer discriminators on concat(label map, image)."""
    return tsit_experiment("tsit_sis", "cityscapes", (256, 512), tsit_trainer(100, 100, 16),
                           tsit_training(20.0, 10.0, lambda_kld=0.05, d_layers=4), source="cityscapes")


# The CPU small run on `python -m tools.make_domains --out=data/domains`: content = line drawings (A), style =
# filled coloured shapes (B), 32 px, tsit_tiny (ngf 8, 5 levels, 2x2 bottleneck), 16-filter discriminators,
# batch 4, hinge + feature matching. The VGG term is off: ImageNet VGG weights are a download, and a random
# VGG-19 at 32 px makes a CPU step 7x slower (1.4 vs 10 steps/s measured); its loss has its own tests.
SMALL_STEPS = 600


@register_experiment("tsit_tiny_domains")
def tsit_tiny_domains() -> ExperimentConfig:
    trainer = tsit_trainer(2, 1, batch=4, steps_per_epoch=SMALL_STEPS // 3)
    trainer.steps_per_loop = SMALL_STEPS // 3
    trainer.log_every_n_steps = 50
    trainer.validation_every_n_loops = 0
    training = tsit_training(0.0, 1.0, d_filters=16)
    training.sample_every_n_steps = 200
    return tsit_experiment("tsit_tiny", "domains", (32, 32), trainer, training,
                           runtime=RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False))

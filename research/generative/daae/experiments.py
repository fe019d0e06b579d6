"""DAAE experiments. No official recipe exists: the paper's settings are unknown here, so the defaults are
IntroVAE's (hhb072/IntroVAE main.py / run_256.sh): Adam lr 2e-4 for encoder and decoder (torch's default
betas 0.9 / 0.999), a constant rate, batch 16, 500 epochs, left-right flips, m = 120, w_rec = 0.05,
w_kl = 1, w_neg = 0.5 (all reconstructed for DAAE; the card's list). Data in the released formats:
MORPH Album 2 (random 80/20, age estimation) and CACD2000 (split by identity, aging); configs/daae/ has the
8-GPU overrides. `daae_tiny_faces` is the CPU small run on `python -m tools.make_faces --out=data/faces`.
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
from official.training.gan.config import GANConfig
from research.generative.daae.task_config import DAAETaskConfig, FaceAgeDataConfig

INTROVAE_ARGS = {"weight_rec": 0.05, "weight_kl": 1.0, "weight_neg": 0.5, "margin": 120.0}  # run_256.sh


def introvae_trainer(epochs: int, batch: int, steps_per_epoch: int = 0, base_lr: float = 2e-4) -> TrainerConfig:
    return TrainerConfig(epochs=epochs, steps_per_epoch=steps_per_epoch, global_batch_size=batch,
                         optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
                         lr_schedule=ScheduleConfig(name="constant", base_lr=base_lr),
                         checkpoints_to_keep=3, validation_every_n_loops=0, log_every_n_steps=100)


def face_experiment(model: str, source: str, path: str, list_file: str, size: int, trainer: TrainerConfig,
                    objective_args: dict, runtime: RuntimeConfig | None = None) -> ExperimentConfig:
    return ExperimentConfig(
        task=DAAETaskConfig(),
        model=model_config(model),
        train_data=FaceAgeDataConfig(source=source, path=path, list_file=list_file, split="train", image_size=size),
        eval_data=FaceAgeDataConfig(source=source, path=path, list_file=list_file, split="test", image_size=size,
                                    horizontal_flip=False),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model", "tflite"), verify_examples=2, atol=1e-4),
        training=GANConfig(objective="daae", objective_args=objective_args),
    )


@register_experiment("daae_256_morph")
def daae_256_morph() -> ExperimentConfig:
    """MORPH Album 2 (about 55k images, 13k subjects): random 80/20 by file name; the CSV's id_num feeds
    the identity head (13,617 subjects in the commercial release's count; set objective_args.identities)."""
    return face_experiment("daae_256", "morph", "morph/Album2", "morph/morph_2008_nonCommercial.csv", 256,
                           introvae_trainer(500, 16), {**INTROVAE_ARGS, "identities": 13617})


@register_experiment("daae_256_cacd")
def daae_256_cacd() -> ExperimentConfig:
    """CACD2000 (163,446 images of 2,000 celebrities): train / test by hashed identity."""
    return face_experiment("daae_256", "cacd", "CACD2000", "", 256, introvae_trainer(500, 16),
                           {**INTROVAE_ARGS, "identities": 2000})


# CPU small run: 500 generated faces (20 people, CACD names; 16 people train / 4 test by hashed identity),
# 32 px, the tiny network. The margin and weights are scaled to its 32-d latent and 3,072 pixels (the
# IntroVAE values are for 512-d and 196,608 pixels).
SMALL_STEPS = 600


@register_experiment("daae_tiny_faces")
def daae_tiny_faces() -> ExperimentConfig:
    trainer = introvae_trainer(1, 16, steps_per_epoch=SMALL_STEPS, base_lr=2e-3)
    trainer.steps_per_loop = SMALL_STEPS // 3
    trainer.log_every_n_steps = 50
    cfg = face_experiment("daae_tiny", "cacd", "faces", "", 32, trainer,
                          {"weight_rec": 0.05, "weight_kl": 1.0, "weight_neg": 0.5, "margin": 10.0, "identities": 20},
                          RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False))
    cfg.task.target_ages = (10.0, 40.0, 70.0)
    return cfg

"""COCO-FUNIT experiments: the official recipe and a CPU small run.

Recipe (imaginaire configs/projects/coco_funit/animal_faces/base64_bs8_class149.yaml, trainers/funit.py):
Adam lr 1e-4 for G and D, betas (0, 0.999), x0.5 every 100k iterations, 150k iterations, batch 8 per GPU on
8 GPUs (global 64), hinge GAN loss with weights gan 1 (0.5 x (trans + recon)), feature matching 1, image
reconstruction 0.1, EMA of G 0.999 (exported), augmentation: shortest side 270, random scale up to 1.1,
flip, random crop 256; model selection by KID (256 samples, one subset).
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
from official.tasks.few_shot_translation_config import FewShotDataConfig, FewShotTranslationTaskConfig
from official.training.gan.config import GANConfig

ITERATIONS = 150_000
DECAY_EVERY = 100_000


def coco_funit_trainer(steps: int, decay_every: int, batch: int, base_lr: float = 1e-4) -> TrainerConfig:
    """Adam (0, 0.999) for both players, x0.5 every `decay_every` steps (one 'epoch' = one step here)."""
    return TrainerConfig(
        epochs=steps, steps_per_epoch=1, global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.0, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="step", base_lr=base_lr, decay_epochs=decay_every, decay_rate=0.5),
        steps_per_loop=min(steps, 1000), checkpoints_to_keep=3, log_every_n_steps=100, validation_every_n_loops=0,
    )


def coco_funit_experiment(model: str, path: str, eval_path: str, trainer: TrainerConfig, crop: int, load: int,
                          num_classes: int, runtime: RuntimeConfig | None = None, ema_decay: float = 0.999,
                          **objective_args) -> ExperimentConfig:
    return ExperimentConfig(
        task=FewShotTranslationTaskConfig(),
        model=model_config(model, image_size=(crop, crop)),
        train_data=FewShotDataConfig(path=path, load_size=load, crop_size=(crop, crop)),
        eval_data=FewShotDataConfig(path=eval_path, load_size=crop, crop_size=(crop, crop), horizontal_flip=False),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model",), verify_examples=2),
        training=GANConfig(objective="coco_funit", gan_loss="hinge", ema_decay=ema_decay,
                           objective_args={"num_classes": num_classes, **objective_args}),
    )


@register_experiment("coco_funit_base64_animal_faces")
def coco_funit_base64_animal_faces() -> ExperimentConfig:
    """Animal Faces, 149 training classes (class149 config); eval on the test folder of the same layout."""
    return coco_funit_experiment("coco_funit_base64", "animal_faces/train", "animal_faces/test",
                                 coco_funit_trainer(ITERATIONS, DECAY_EVERY, 64), 256, 270, 149)


@register_experiment("coco_funit_base64_mammals")
def coco_funit_base64_mammals() -> ExperimentConfig:
    """Mammals (305 classes, new in the paper)."""
    return coco_funit_experiment("coco_funit_base64", "mammals/train", "mammals/test",
                                 coco_funit_trainer(ITERATIONS, DECAY_EVERY, 64), 256, 270, 305)


# The CPU small run on `python -m tools.make_few_shot --out=data/few_shot` (3 classes of generated textured
# shapes, 32 px): the small generator, an 8-filter 3-stage discriminator, batch 8, Adam 5e-4 x 0.5 at 2/3, EMA 0.99.
SMALL_STEPS = 600


@register_experiment("coco_funit_small_few_shot")
def coco_funit_small_few_shot() -> ExperimentConfig:
    trainer = coco_funit_trainer(SMALL_STEPS, 2 * SMALL_STEPS // 3, 8, base_lr=5e-4)
    trainer.steps_per_loop = SMALL_STEPS // 3
    trainer.log_every_n_steps = 50
    return coco_funit_experiment("coco_funit_small", "few_shot/train", "few_shot/test", trainer, 32, 36, 3,
                                 RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False),
                                 ema_decay=0.99, d_filters=8, d_max_filters=32, d_stages=3)

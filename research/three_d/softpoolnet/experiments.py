"""SoftPoolNet experiments: Completion3D, PCN and ModelNet40 recipes, and the primitives small run.

Completion (card "Method", PCN defaults the card marks unverified for this paper): Adam lr 1e-4, x0.7 every
50k steps, batch 32, 300k steps; loss alpha * CD(coarse) + CD(fine) + 0.1 * entropy with PCN's alpha ramp
0.01 / 0.1 / 0.5 / 1.0 at 10k / 20k / 50k steps (model arguments). Steps are counted in "epochs" of 1,000
steps (trainer.steps_per_epoch) so the step schedule decays every 50 of them, whatever the set's size.
No augmentation (the PCN / Completion3D pipelines feed the clouds as stored).
ModelNet40 classification: not in the released code; PointNet's recipe (Adam 1e-3, x0.7 every 200k
samples, batch 32, 250 epochs) on 1,024 points with the point_classification task's augmentation - a guess.
Small run `softpoolnet_small_shapes`: a narrow network on `python -m tools.make_shapes3d --layout=completion3d
--out=data/shapes_completion3d` (README "Small run").
"""

from __future__ import annotations

import dataclasses

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
from official.tasks.point_classification_config import PointClassificationTaskConfig, PointCloudDataConfig
from official.tasks.point_completion_config import CompletionDataConfig, CompletionTaskConfig

STEPS_PER_EPOCH = 1000  # a schedule "epoch" = 1,000 steps (decay every 50k steps = 50 epochs)
MODELNET40_TRAIN = 9840  # shapes in ply_data_train0..4
SHAPES_SMALL_RUN = "shapes_completion3d"  # under runtime.data_dir
# the small run's narrow network: 32 regions x 16 ranks = 512 coarse points, 2x2 patches -> 2,048
SMALL_MODEL = {"dim_pn": 32, "ranks": 16, "grid": (2, 2), "grid_scale": 0.05,
               "point_widths": (32, 64), "global_widths": (64, 128, 256), "global_dim": 128, "fold_widths": (128, 128),
               "alpha_boundaries": (100, 200, 300)}


def completion_recipe() -> TrainerConfig:
    """PCN's optimiser and schedule: Adam 1e-4, x0.7 every 50k steps, batch 32, 300k steps."""
    return TrainerConfig(
        train_steps=300_000,
        steps_per_epoch=STEPS_PER_EPOCH,
        global_batch_size=32,
        optimizer=OptimizerConfig(name="adam"),
        lr_schedule=ScheduleConfig(name="step", base_lr=1e-4, decay_epochs=50, decay_rate=0.7),
        steps_per_loop=STEPS_PER_EPOCH,
        log_every_n_steps=100,
    )


def completion_experiment(model: str, source: str, path: str, num_partial: int, num_complete: int,
                          trainer: TrainerConfig, emd_points: int = 2048, **model_values) -> ExperimentConfig:
    data = CompletionDataConfig(source=source, path=path, num_partial=num_partial, num_complete=num_complete)
    return ExperimentConfig(
        task=CompletionTaskConfig(emd_points=emd_points),
        model=model_config(model, num_points=num_partial, **model_values),
        train_data=dataclasses.replace(data, split="train"),
        eval_data=dataclasses.replace(data, split="val"),
        trainer=trainer,
        runtime=RuntimeConfig(),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=2, atol=1e-4),
    )


@register_experiment("softpoolnet_completion3d")
def softpoolnet_completion3d() -> ExperimentConfig:
    """Completion3D (`completion3d/` under data_dir: train/val lists, partial/gt .h5 of 2,048 points)."""
    return completion_experiment("softpoolnet_completion3d", "completion3d", "completion3d", 2048, 2048, completion_recipe())


@register_experiment("softpoolnet_pcn")
def softpoolnet_pcn() -> ExperimentConfig:
    """PCN ShapeNet (`pcn/` under data_dir: raw PCD layout), partials resampled to 2,048, 16,384-point gt."""
    return completion_experiment("softpoolnet_pcn", "pcn", "pcn", 2048, 16_384, completion_recipe())


@register_experiment("softpoolnet_modelnet40")
def softpoolnet_modelnet40() -> ExperimentConfig:
    """ModelNet40 (modelnet40_ply_hdf5_2048 under data_dir), 1,024 points (classification recipe: a guess)."""
    data = PointCloudDataConfig(path="modelnet40_ply_hdf5_2048", num_points=1024)
    return ExperimentConfig(
        task=PointClassificationTaskConfig(num_classes=40),
        model=model_config("softpoolnet_classifier", classes=40, num_points=1024),
        train_data=dataclasses.replace(data, split="train"),
        eval_data=dataclasses.replace(data, split="test", augment=False),
        trainer=TrainerConfig(
            epochs=250,
            global_batch_size=32,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="step", base_lr=1e-3, decay_epochs=200_000 / MODELNET40_TRAIN, decay_rate=0.7),
            log_every_n_steps=100,
        ),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=8, atol=1e-4),
    )


def small_trainer(steps: int = 150, lr: float = 3e-3) -> TrainerConfig:
    """The small run: Adam `lr` constant, batch 8, `steps` steps in loops of 50."""
    return TrainerConfig(
        train_steps=steps,
        global_batch_size=8,
        optimizer=OptimizerConfig(name="adam"),
        lr_schedule=ScheduleConfig(name="constant", base_lr=lr),
        steps_per_loop=50,
        log_every_n_steps=50,
        checkpoints_to_keep=1,
    )


@register_experiment("softpoolnet_small_shapes")
def softpoolnet_small_shapes() -> ExperimentConfig:
    """The narrow SoftPoolNet on make_shapes3d's Completion3D-layout primitives (512 partial -> 2,048 points)."""
    return completion_experiment("softpoolnet_completion3d", "completion3d", SHAPES_SMALL_RUN, 512, 2048,
                                 small_trainer(), emd_points=512, **SMALL_MODEL)


@register_experiment("softpoolnet_classifier_shapes")
def softpoolnet_classifier_shapes() -> ExperimentConfig:
    """The classification small run: a narrow classifier (32 regions x 16 ranks, 256 points) on
    `python -m tools.make_shapes3d --layout=modelnet40_h5 --out=data/shapes_modelnet40` (6 primitive classes);
    Adam 1e-3 constant, batch 16, 600 steps."""
    data = PointCloudDataConfig(path="shapes_modelnet40", num_points=256)
    trainer = dataclasses.replace(small_trainer(600, lr=1e-3), global_batch_size=16, steps_per_loop=200)
    return ExperimentConfig(
        task=PointClassificationTaskConfig(num_classes=6),
        model=model_config("softpoolnet_classifier", classes=6, num_points=256, dim_pn=32, ranks=16,
                           point_widths=(32, 64), head_widths=(64,)),
        train_data=dataclasses.replace(data, split="train"),
        eval_data=dataclasses.replace(data, split="test", augment=False),
        trainer=trainer,
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=8, atol=1e-4),
    )

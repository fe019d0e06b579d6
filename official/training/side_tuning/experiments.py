"""Side-Tuning experiments: the iCIFAR stream of the official demo and a two-task digits stream.

`side_tuning_resnet44_icifar` (official `configs/icifar_cfg.py`): CIFAR-100 as 10 tasks of 10
consecutive classes, 4 epochs per task, Adam lr 1e-3 without weight decay, batch 128; frozen ResNet-44
base pretrained on CIFAR-10 (set `training.base_checkpoint` to the converted `resnet44-cifar.pth`), one
FCN4 side per task distilled from the base, learned alpha starting at 0.5, a 10-way head per task.

`side_tuning_digits`: digits as 2 tasks of 5 classes, the same model with 2 tasks and a frozen
ResNet-20 base, 220 steps per task; the card's forgetting check (task 0's accuracy after task 1).
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
from official.tasks.classification_experiments import DATASETS
from official.tasks.incremental_classification import IncrementalTaskConfig
from official.training.side_tuning.config import SideTuningConfig


def _stream(dataset: str, model: str, num_tasks: int, classes_per_task: int, trainer: TrainerConfig,
            training: SideTuningConfig, runtime: RuntimeConfig | None = None, data: dict | None = None,
            train_data: dict | None = None, **model_values) -> ExperimentConfig:
    make_data, num_classes = DATASETS[dataset]
    data = data or {}
    return ExperimentConfig(
        task=IncrementalTaskConfig(num_classes=num_classes, num_tasks=num_tasks, classes_per_task=classes_per_task),
        model=model_config(model, num_tasks=num_tasks, classes_per_task=classes_per_task, **model_values),
        train_data=dataclasses.replace(make_data("train", training=True), **{**data, **(train_data or {})}),
        eval_data=dataclasses.replace(make_data("val", training=False), **data),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none"),
        training=training,
    )


@register_experiment("side_tuning_resnet44_icifar")
def side_tuning_resnet44_icifar() -> ExperimentConfig:
    """iCIFAR-100, 10 tasks x 10 classes (official demo: ~76% average accuracy)."""
    return _stream(
        "cifar100", "side_tuning_resnet44_fcn4", 10, 10,
        trainer=TrainerConfig(
            epochs=4,  # 4 passes over each task's 5,000 images: 4 epochs of CIFAR-100 over the stream
            global_batch_size=128,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="constant", base_lr=1e-3),
        ),
        # The official base and distilled side: `tools.convert_checkpoint --model=resnet44_cifar` of
        # resnet44-cifar.pth and `--model=fcn4_side` of fcn4-cifar.pth, paths set by the user.
        training=SideTuningConfig(base_checkpoint="", base_classes=0, side_init="checkpoint", side_checkpoint=""),
        # The official iCIFAR loader: ToTensor + ImageNet normalisation, no augmentation.
        data={"mean": (123.675, 116.28, 103.53), "std": (58.395, 57.12, 57.375)},
        train_data={"random_resized_crop": False, "horizontal_flip": False},
    )


@register_experiment("side_tuning_digits")
def side_tuning_digits() -> ExperimentConfig:
    """Digits 0-4 then 5-9 with 2 FCN4 sides over a frozen random ResNet-20 (2 CPU cores, minutes)."""
    return _stream(
        "digits", "side_tuning_resnet20_fcn4", 2, 5,
        trainer=TrainerConfig(
            train_steps=440,
            global_batch_size=64,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="constant", base_lr=3e-3),
            steps_per_loop=110,
        ),
        training=SideTuningConfig(side_init="random"),
        runtime=RuntimeConfig(deterministic=True, intra_op_threads=2, inter_op_threads=2),
    )

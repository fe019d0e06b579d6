"""Crowd3DPose 2D-network experiments: the paper's 23-keypoint recipe and the CPU run on the synthetic crowd.

The authors' 2D stage is AlphaPose's pose estimator retrained with the feet-weighted loss; the released
repo holds only the loss (loss/criterion.py), not the training script. The recipe below is AlphaPose's
FastPose COCO default (configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml: Adam lr 1e-3, lr x 0.1 at
epochs 90 and 120, 140 epochs, batch 32 per GPU, rotation 40, scale 0.3, flip) at the paper's 320 x 256
input (heatmaps 80 x 64, spec "Method"); every value is UNVERIFIED against the authors' run. Data: a COCO
person_keypoints JSON whose persons carry 23 keypoints in FEET23 order (COCO-WholeBody's 17 body + 6 foot
keypoints; converting COCO-WholeBody's `foot_kpts` into `keypoints` is a one-off script, not here).
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
from official.tasks.keypoints_config import KeypointDataConfig, KeypointTaskConfig

COCO_WHOLEBODY_TRAIN_PERSONS = 149_813  # COCO-WholeBody train persons = COCO's with >= 1 keypoint (unverified)
TASK = "crowd3dpose_keypoints"


def wholebody23_data(split: str, size: tuple[int, int]) -> KeypointDataConfig:
    return KeypointDataConfig(source="coco", path=f"coco/images/{split}",
                              annotations=f"coco_wholebody23/person_keypoints_{split}.json",
                              input_size=size, image_size=size[0], kernels=(11, 9, 7))


@register_experiment("crowd3dpose_resnet50_coco23")
def crowd3dpose_resnet50_coco23() -> ExperimentConfig:
    """ResNet-50 + deconv heads on 23-keypoint COCO-WholeBody persons, 8 GPUs x 32, 140 epochs (unverified)."""
    size = (320, 256)
    batch = 256
    steps_per_epoch = COCO_WHOLEBODY_TRAIN_PERSONS // batch
    return ExperimentConfig(
        task=KeypointTaskConfig(name=TASK, num_classes=23),
        model=model_config("crowd3dpose_resnet50", input_shape=(*size, 3)),
        train_data=wholebody23_data("train2017", size),
        eval_data=wholebody23_data("val2017", size),
        trainer=TrainerConfig(
            train_steps=140 * steps_per_epoch,
            steps_per_epoch=steps_per_epoch,
            steps_per_loop=steps_per_epoch,
            global_batch_size=batch,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="multistep", base_lr=1e-3, milestones=(90.0, 120.0), decay_rate=0.1),
            validation_every_n_loops=0,
            log_every_n_steps=100,
        ),
        runtime=RuntimeConfig(jit_compile="auto"),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=8, atol=1e-3),
    )


# The CPU run: the synthetic crowd rendered small (tools.make_crowd_views --images), train and val seeds.
CROWD23_COMMANDS = (
    "python -m tools.make_crowd_views --out=DATA/crowd23/train --frames=24 --images --seed=0",
    "python -m tools.make_crowd_views --out=DATA/crowd23/val --frames=2 --images --seed=1",
)


def crowd23_data(split: str) -> KeypointDataConfig:
    return KeypointDataConfig(source="coco", path=f"crowd23/{split}/images",
                              annotations=f"crowd23/{split}/annotations/person_keypoints.json",
                              input_size=(64, 64), image_size=64, kernels=(5, 3), cache=True)


@register_experiment("crowd3dpose_resnettiny_crowd23")
def crowd3dpose_resnettiny_crowd23() -> ExperimentConfig:
    """Tiny network on the rendered synthetic crowd (CROWD23_COMMANDS): 64x64 crops, 16x16 heatmaps, CPU."""
    return ExperimentConfig(
        task=KeypointTaskConfig(name=TASK, num_classes=23, flip_test=False, blur_kernel=3),
        model=model_config("crowd3dpose_resnettiny"),
        train_data=crowd23_data("train"),
        eval_data=crowd23_data("val"),
        trainer=TrainerConfig(
            train_steps=1000,
            steps_per_epoch=27,  # 864 persons / 32
            steps_per_loop=250,
            global_batch_size=32,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="linear", base_lr=2e-3, warmup_epochs=1.0, warmup_start_lr=2e-4),
            validation_every_n_loops=0,
            log_every_n_steps=50,
        ),
        runtime=RuntimeConfig(jit_compile="auto", deterministic=True, intra_op_threads=2, inter_op_threads=2),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=8, atol=1e-3,
                            representative_examples=32),
    )

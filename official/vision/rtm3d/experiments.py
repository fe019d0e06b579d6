"""RTM3D / KM3D experiments: the released code's KITTI recipe and the CPU synthetic-boxes run.

Recipe (KM3D opts.py defaults, spec card "Training"): Adam (PyTorch defaults), lr 1.25e-4 for a batch of
32 (`lr_reference_batch=32` scales it linearly), 140 epochs over the 3,712 frames of the 3dop train
split with lr x 0.1 at epochs 90 and 120, 384 x 1280 input, random scale 0.6-1.3 x max(H, W) and
random centre (KM3D `not_rand_crop` off), flip 0.5 (commented out in KM3D's sample code: see the card),
the 3D-confidence and location losses ramped up over 100 epochs. Evaluation: KITTI val (3,769 frames),
AP|R40 at both IoU settings. Layout under the data root: kitti/training/{image_2,label_2,calib} and
kitti/ImageSets/{train,val}.txt (KM3D's kitti_format/data/kitti/{train,val}.txt).
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
from official.tasks.mono3d_config import Mono3dDataConfig, Mono3dTaskConfig

KITTI_TRAIN_FRAMES = 3712  # 3dop train split
EPOCHS, LR_STEPS = 140, (90.0, 120.0)
RAMPUP_EPOCHS = 100  # base_trainer.py exp_rampup(100)


def kitti_data(split: str, training: bool) -> Mono3dDataConfig:
    return Mono3dDataConfig(path="kitti", split=split, flip_prob=0.5 if training else 0.0)


def _kitti(model: str) -> ExperimentConfig:
    batch = 32
    steps_per_epoch = KITTI_TRAIN_FRAMES // batch
    return ExperimentConfig(
        task=Mono3dTaskConfig(num_classes=3),
        model=model_config(model, confidence_rampup_steps=RAMPUP_EPOCHS * steps_per_epoch),
        train_data=kitti_data("train", True),
        eval_data=kitti_data("val", False),
        trainer=TrainerConfig(
            train_steps=EPOCHS * steps_per_epoch,
            steps_per_epoch=steps_per_epoch,
            steps_per_loop=10 * steps_per_epoch,
            global_batch_size=batch,
            lr_reference_batch=32,
            optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
            lr_schedule=ScheduleConfig(name="multistep", base_lr=1.25e-4, milestones=LR_STEPS, decay_rate=0.1),
            validation_every_n_loops=0,
            log_every_n_steps=50,
        ),
        runtime=RuntimeConfig(jit_compile="auto"),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=4, atol=1e-3),
    )


@register_experiment("rtm3d_resnet18_kitti")
def rtm3d_resnet18_kitti() -> ExperimentConfig:
    """KM3D ResNet-18 on KITTI 3dop train (README val Car AP3D@0.7: 17.51 / 13.99 / 12.73)."""
    return _kitti("rtm3d_resnet18")


@register_experiment("rtm3d_dla34_kitti")
def rtm3d_dla34_kitti() -> ExperimentConfig:
    """KM3D DLA-34 on KITTI 3dop train (README val Car AP3D@0.7: 19.19 / 16.70 / 16.14)."""
    return _kitti("rtm3d_dla34")


# The synthetic KITTI-layout set the CPU run trains on (tools/make_kitti_boxes.py): 448 x 136 frames of
# 1-3 objects standing 6-22 m away.
BOXES_COMMAND = (
    "python -m tools.make_kitti_boxes --out data/kitti_boxes_near --num_train 800 --num_val 100 "
    "--max_depth 22 --max_objects 3"
)


def boxes_data(split: str, training: bool) -> Mono3dDataConfig:
    """The near boxes at 128 x 416; training jitters the scale (0.9-1.1) and flips, without KM3D's random
    crop centre (it slows a 5-minute run down: measured, see the model card)."""
    return Mono3dDataConfig(
        path="kitti_boxes_near", split=split, input_size=(128, 416), image_size=128, max_objects=8,
        flip_prob=0.5 if training else 0.0, scales=(0.9, 1.0, 1.1), border=32, random_center=False, cache=True,
    )  # fmt: skip


@register_experiment("rtm3d_tiny_boxes")
def rtm3d_tiny_boxes() -> ExperimentConfig:
    """Tiny RTM3D on the near synthetic boxes (BOXES_COMMAND): 1,100 steps, ~5 CPU minutes (model card)."""
    steps = 1100
    return ExperimentConfig(
        task=Mono3dTaskConfig(num_classes=3),
        # The location / 3D-confidence terms ramp over the whole run (start at ~51%), as KM3D's over
        # 100 of 140 epochs; centres above 0.2 are kept.
        model=model_config("rtm3d_tiny", confidence_rampup_steps=steps, center_threshold=0.2),
        train_data=boxes_data("train", True),
        eval_data=boxes_data("val", False),
        trainer=TrainerConfig(
            train_steps=steps,
            steps_per_epoch=100,
            steps_per_loop=550,
            global_batch_size=8,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="cosine", base_lr=2e-3, warmup_epochs=0.5, warmup_start_lr=2e-4, min_lr=5e-5),
            validation_every_n_loops=0,
            log_every_n_steps=50,
        ),
        runtime=RuntimeConfig(jit_compile="auto"),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=4, warmup_requests=1, atol=1e-3),
    )

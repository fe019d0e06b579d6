"""Gesture+HandPose experiments: the paper recipe on FPHA (values unverified) and the synthetic small run.

FPHA recipe (spec "Losses", all (unverified): the paper's numbers were not readable): Adam lr 1e-4, batch
16 clips of T = 8 frames, 224 px ground-truth hand crops, lambda_g = lambda_p = 1, 100 epochs over the 600
training sequences, step decay x0.1 at epochs 60 and 90 (our choice), no augmentation beyond the
TSN-style random frame of each segment. configs/gesture_handpose/fpha_8xb2.yaml runs it on 8 GPUs.

Small run: `python -m tools.make_hands3d --out=data/hands3d` (3 classes of synthetic 21-joint hands in
the FPHA layout) then `gesture_handpose_tiny_hands3d` (README "Small run").
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
from research.three_d.gesture_handpose.config import FphaDataConfig, GestureTaskConfig


def gesture_experiment(model: str, path: str, trainer: TrainerConfig, num_classes: int, image_size: int,
                       frames: int, runtime: RuntimeConfig | None = None, **data_args) -> ExperimentConfig:
    data = dict(image_size=image_size, num_frames=frames, **data_args)
    return ExperimentConfig(
        task=GestureTaskConfig(num_classes=num_classes),
        model=model_config(model, num_classes=num_classes, frames=frames, image_size=image_size),
        train_data=FphaDataConfig(path=path, split="train", **data),
        eval_data=FphaDataConfig(path=path, split="test", **data),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model", "tflite"), verify_examples=2, atol=1e-3),
    )


@register_experiment("gesture_handpose_r50_fpha")
def gesture_handpose_r50_fpha() -> ExperimentConfig:
    """ResNet-50 network on FPHA's 1:1 action split (600 train / 575 test sequences), 45 classes."""
    trainer = TrainerConfig(
        epochs=100,
        global_batch_size=16,
        optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="multistep", base_lr=1e-4, milestones=(60.0, 90.0), decay_rate=0.1),
        checkpoints_to_keep=3,
        log_every_n_steps=20,
    )
    return gesture_experiment("gesture_handpose_r50", "fpha", trainer, 45, 224, 8)


SMALL_STEPS = 300


@register_experiment("gesture_handpose_tiny_hands3d")
def gesture_handpose_tiny_hands3d() -> ExperimentConfig:
    """The CPU small run on tools.make_hands3d's set (its synthetic camera: f = 160, c = (63.5, 47.5))."""
    trainer = TrainerConfig(
        train_steps=SMALL_STEPS,
        steps_per_epoch=100,
        steps_per_loop=100,
        global_batch_size=8,
        optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="cosine", base_lr=3e-3),
        log_every_n_steps=25,
        validation_every_n_loops=0,
    )
    runtime = RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False)
    return gesture_experiment("gesture_handpose_tiny", "hands3d", trainer, 3, 64, 8, runtime,
                              focal=(160.0, 160.0), center=(63.5, 47.5), crop_padding=0.15)

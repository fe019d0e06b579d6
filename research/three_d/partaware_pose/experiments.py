"""PartAwarePose experiments: Human3.6M recipes (derived model, ResNet-50 baseline, search) and small runs.

Human3.6M (spec card "Training of the final model", unverified; 3DMPPE PoseNet's schedule where the card
gives a range): Adam lr 1e-3, x0.1 at epochs 17 and 21, 25 epochs, batch 64 (8 GPUs x 8), 256 px crops,
scale +-25%, rotation +-30 deg (p 0.6), flip, colour gain 0.2; train S1, S5, S6, S7, S8 every 5th frame,
test S9, S11 every 64th frame (Protocol 1). The paper mixes MPII 1:1 for x, y; we train on Human3.6M only
(README "Known differences").
Search (DARTS' recipe, unverified for this paper): SGD 0.025 momentum 0.9, cosine to 0.001, weight decay
3e-4, 50 epochs, batch 64 = 32 split A + 32 split B; alphas Adam 3e-4 (model arguments).
Small runs on `python -m tools.make_humans3d --layout=h36m --out=data/h36m_synth --image_size=256`
(train S1, S5; test S9, S11): the tiny derived network at 64 px crops, the tiny search supernet at 32 px.
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
from research.three_d.partaware_pose.config import H36MCropDataConfig, PartAwareTaskConfig

SMALL_DATA = "h36m_synth"  # under runtime.data_dir: tools.make_humans3d --layout=h36m --image_size=256
EXPORT = ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=4, atol=1e-5)


def h36m_data(image_size: int = 256) -> tuple[H36MCropDataConfig, H36MCropDataConfig]:
    train = H36MCropDataConfig(path="Human36M", subjects=(1, 5, 6, 7, 8), sampling=5, image_size=image_size,
                               cache=False)
    test = dataclasses.replace(train, subjects=(9, 11), sampling=64)
    return train, test


def paper_trainer() -> TrainerConfig:
    return TrainerConfig(
        epochs=25, global_batch_size=64, optimizer=OptimizerConfig(name="adam"),
        lr_schedule=ScheduleConfig(name="multistep", base_lr=1e-3, milestones=(17.0, 21.0), decay_rate=0.1),
        log_every_n_steps=100)


def h36m_experiment(model: str, trainer: TrainerConfig, search: bool = False) -> ExperimentConfig:
    train, test = h36m_data()
    return ExperimentConfig(
        task=PartAwareTaskConfig(search=search), model=model_config(model), train_data=train, eval_data=test,
        trainer=trainer, runtime=RuntimeConfig(), export=EXPORT)


@register_experiment("partaware_pose_derived_h36m")
def partaware_pose_derived_h36m() -> ExperimentConfig:
    """The derived part-aware network (default genotype) trained from scratch on Human3.6M."""
    return h36m_experiment("partaware_pose_derived", paper_trainer())


@register_experiment("partaware_pose_r50baseline_h36m")
def partaware_pose_r50baseline_h36m() -> ExperimentConfig:
    """The ResNet-50 integral baseline on Human3.6M (same recipe; ImageNet init via trainer.init_checkpoint)."""
    return h36m_experiment("partaware_pose_r50baseline", paper_trainer())


@register_experiment("partaware_pose_search_h36m")
def partaware_pose_search_h36m() -> ExperimentConfig:
    """The bilevel DARTS search over the part-specific cells on Human3.6M (GPU-heavy)."""
    trainer = TrainerConfig(
        epochs=50, global_batch_size=64, weight_decay=3e-4,
        optimizer=OptimizerConfig(name="sgd", momentum=0.9),
        lr_schedule=ScheduleConfig(name="cosine", base_lr=0.025, min_lr=0.001), log_every_n_steps=100)
    return h36m_experiment("partaware_pose_search", trainer, search=True)


def small_experiment(model: str, trainer: TrainerConfig, search: bool) -> ExperimentConfig:
    train = H36MCropDataConfig(path=SMALL_DATA, subjects=(1, 5), sampling=1, image_size=64, shuffle_buffer=256)
    test = dataclasses.replace(train, subjects=(9, 11))
    return ExperimentConfig(
        task=PartAwareTaskConfig(depth_bins=16, heatmap_size=16, search=search), model=model_config(model),
        train_data=train, eval_data=test, trainer=trainer, runtime=RuntimeConfig(), export=EXPORT)


@register_experiment("partaware_pose_tiny_search_synth")
def partaware_pose_tiny_search_synth() -> ExperimentConfig:
    """Small search run: the tiny supernet with 2 backbone cells at 32 px crops (8 x 8 x 8 volumes), batch 8,
    20 steps in one loop, so that build + graph trace + steps + evaluation fit in 5 minutes on 2 loaded cores."""
    trainer = TrainerConfig(
        train_steps=20, global_batch_size=8, steps_per_loop=20, log_every_n_steps=10, checkpoints_to_keep=1,
        optimizer=OptimizerConfig(name="sgd", momentum=0.9),
        lr_schedule=ScheduleConfig(name="cosine", base_lr=0.025, min_lr=0.001), weight_decay=3e-4)
    cfg = small_experiment("partaware_pose_tiny_search", trainer, search=True)
    cfg.model = model_config("partaware_pose_tiny_search", input_shape=(32, 32, 3), depth_bins=8, layers=2)
    cfg.train_data = dataclasses.replace(cfg.train_data, image_size=32)
    cfg.eval_data = dataclasses.replace(cfg.eval_data, image_size=32)
    cfg.task = dataclasses.replace(cfg.task, depth_bins=8, heatmap_size=8)
    return cfg


@register_experiment("partaware_pose_tiny_synth")
def partaware_pose_tiny_synth() -> ExperimentConfig:
    """Small derived-model run: the tiny derived network from scratch on the synthetic set."""
    trainer = TrainerConfig(
        train_steps=600, global_batch_size=16, steps_per_loop=200, log_every_n_steps=50, checkpoints_to_keep=1,
        optimizer=OptimizerConfig(name="adam"), lr_schedule=ScheduleConfig(name="constant", base_lr=2e-3))
    return small_experiment("partaware_pose_tiny", trainer, search=False)

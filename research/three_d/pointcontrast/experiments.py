"""PointContrast experiments: the paper's ScanNet-pair pre-training and a CPU small run on generated pairs.

ScanNet (scripts/ddp_local.sh + config/defaults.yaml): Res16UNet34C (in 3, out 32, L2-normalised), 2.5 cm
voxels, batch 32 pairs (8 GPUs x 4), SGD lr 0.1, momentum 0.8, weight decay 1e-4, lr x 0.99 every 250
iterations (ExponentialLR stepped every lr_update_freq), 60,000 iterations; BN momentum 0.05; random
rotation of each view (360 degrees), feature jitter; matches within 1.5 voxels; PointInfoNCE with
tau 0.4 and 4,096 pairs (the launch script as shipped selects the hardest-contrastive trainer instead:
`--params_override=training.loss=hardest_contrastive`).
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
from research.three_d.pointcontrast.config import (
    PairDataConfig,
    PointContrastTaskConfig,
    PointContrastTrainingConfig,
)


def official_trainer(train_steps: int = 60_000, batch: int = 32, lr_period: int = 250) -> TrainerConfig:
    """SGD 0.1 / momentum 0.8 / wd 1e-4; one "epoch" = lr_update_freq steps, lr x 0.99 per epoch."""
    return TrainerConfig(
        train_steps=train_steps,
        steps_per_epoch=lr_period,
        global_batch_size=batch,
        optimizer=OptimizerConfig(name="sgd", momentum=0.8),
        lr_schedule=ScheduleConfig(name="step", base_lr=0.1, decay_epochs=1.0, decay_rate=0.99),
        weight_decay=1e-4,
        validation_every_n_loops=0,  # pre-training has no validation; tools.evaluate scores correspondences
        log_every_n_steps=40,  # trainer.stat_freq
    )


def pointcontrast_experiment(model, train: PairDataConfig, evaluation: PairDataConfig, trainer: TrainerConfig,
                             runtime: RuntimeConfig | None = None,
                             training: PointContrastTrainingConfig | None = None) -> ExperimentConfig:
    return ExperimentConfig(
        task=PointContrastTaskConfig(),
        model=model,
        train_data=train,
        eval_data=evaluation,
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model",)),  # TFLite is not targeted (card check 8)
        training=training or PointContrastTrainingConfig(),
    )


@register_experiment("pointcontrast_res16unet34c_scannet")
def pointcontrast_res16unet34c_scannet() -> ExperimentConfig:
    """Res16UNet34C pre-trained on the ScanNet Pair Dataset (overlap >= 30%), the launch script's recipe."""
    data = dict(path="scannet_pair", voxel_size=0.025, capacity=40_000)
    return pointcontrast_experiment(
        model_config("pointcontrast_res16unet34c"),
        PairDataConfig(pair_list="overlap-30-full.txt", **data),
        PairDataConfig(pair_list="overlap-30-50p-subset.txt", jitter=False, **data),
        official_trainer(),
    )


@register_experiment("pointcontrast_res16unet_tiny_shapes")
def pointcontrast_res16unet_tiny_shapes() -> ExperimentConfig:
    """The tiny U-Net on `python -m tools.make_shapes3d --layout=scannet_pairs` data (CPU small run):
    5 cm voxels (a synthetic scan is sparser than a depth frame), 2,048 voxels per view, batch 4,
    PointInfoNCE (tau 0.4, 1,024 pairs), the official optimiser with lr x 0.99 every 25 steps, 250 steps,
    coarse levels at half the capacity per level (capacity_ratio 0.5)."""
    data = dict(path="shapes_scannet_pairs", voxel_size=0.05, capacity=2048)
    cfg = pointcontrast_experiment(
        model_config("pointcontrast_res16unet_tiny", capacity_ratio=0.5),
        PairDataConfig(pair_list="train.txt", **data),
        PairDataConfig(pair_list="test.txt", jitter=False, **data),
        official_trainer(train_steps=250, batch=4, lr_period=25),
        runtime=RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False),
        training=PointContrastTrainingConfig(npos=1024),
    )
    cfg.trainer.steps_per_loop = 125  # two checkpoints
    return cfg

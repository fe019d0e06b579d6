"""ISP experiments: the paper's Market-1501 recipe and a CPU small run on a generated Market-layout set.

Market-1501 (ISP-Market1501.sh with configs/softmax_triplet.yml): HRNet-W32 (ImageNet init in the paper:
set trainer.init_checkpoint), 256x128, PK batches of 16 identities x 4 images (64), Adam lr 3.5e-4
(eps 1e-8), weight decay 5e-4, 120 epochs, linear warm-up over 10 epochs from 0.01 x lr, lr x 0.1 at
epochs 40 and 70; flip, pad 10 + crop, random erasing 0.5; clustering every 2 epochs up to epoch 101,
7 parts; label smoothing 0.1, triplet margin 0.3, parsing weight 0.1, center loss 0.0005 (lr 0.5).
Evaluation at the end (the official evaluates every 40 epochs): `python -m tools.evaluate`.
"""

from __future__ import annotations

from official.core.config import (
    ExperimentConfig,
    ModelConfig,
    OptimizerConfig,
    RuntimeConfig,
    ScheduleConfig,
    TrainerConfig,
    model_config,
)
from official.core.registry import register_experiment
from research.reid.isp.config import ISPTaskConfig, ISPTrainingConfig, ReidDataConfig


def isp_experiment(model: ModelConfig, path: str, num_classes: int, trainer: TrainerConfig,
                   height: int = 256, width: int = 128, runtime: RuntimeConfig | None = None,
                   training: ISPTrainingConfig | None = None) -> ExperimentConfig:
    return ExperimentConfig(
        task=ISPTaskConfig(num_classes=num_classes),
        model=model,
        train_data=ReidDataConfig(path=path, height=height, width=width),
        eval_data=ReidDataConfig(path=path, height=height, width=width),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        training=training or ISPTrainingConfig(),
    )


def official_trainer(epochs: int = 120, batch: int = 64, warmup: float = 10.0, milestones=(40.0, 70.0)) -> TrainerConfig:
    """SOLVER of softmax_triplet.yml: Adam 3.5e-4, wd 5e-4, warm-up from 0.01 x lr, multistep x0.1."""
    base_lr = 3.5e-4
    return TrainerConfig(
        epochs=epochs,
        global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="multistep", base_lr=base_lr, warmup_epochs=warmup,
                                   warmup_start_lr=0.01 * base_lr, decay_rate=0.1, milestones=tuple(milestones)),
        weight_decay=5e-4,
        validation_every_n_loops=0,  # the re-ID evaluation runs after training (and with tools.evaluate)
        log_every_n_steps=20,
    )


@register_experiment("isp_hrnet32_market1501")
def isp_hrnet32_market1501() -> ExperimentConfig:
    """ISP with HRNet-W32 on Market-1501 (751 training identities), the official recipe."""
    return isp_experiment(model_config("isp_hrnet32", num_classes=751), "Market-1501", 751, official_trainer())


# tools.make_reid's default set: 16 training identities, 64x32 crops of 128x64 images (2 CPU cores).
SYNTH_TRAIN_IDS = 16


@register_experiment("isp_hrnet_tiny_reid_synth")
def isp_hrnet_tiny_reid_synth() -> ExperimentConfig:
    """The tiny HRNet ISP on `python -m tools.make_reid` data: 8 x 4 PK batches, 64x32 input, 24 epochs of
    4 steps, the official schedule's shape (linear warm-up over 2 epochs from 0.01 x lr, x0.1 at epochs
    16 and 22), clustering every 2 epochs. lr 1e-2: the trunk starts from scratch, not from ImageNet."""
    trainer = official_trainer(epochs=24, batch=32, warmup=2.0, milestones=(16.0, 22.0))
    trainer.lr_schedule.base_lr = 1e-2
    trainer.lr_schedule.warmup_start_lr = 1e-4
    cfg = isp_experiment(model_config("isp_hrnet_tiny", num_classes=SYNTH_TRAIN_IDS, input_shape=(64, 32, 3)),
                         "reid_synth", SYNTH_TRAIN_IDS, trainer, height=64, width=32,
                         runtime=RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False),
                         training=ISPTrainingConfig(cluster_batch_size=64))
    cfg.train_data.pad = 3  # 10 px of 256 scaled to the 64 px input
    return cfg

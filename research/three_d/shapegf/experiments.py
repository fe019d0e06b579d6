"""ShapeGF experiments: the released configs' recipes and a CPU small run on tools.make_shapes3d PC15k data.

Auto-encoding (configs/recon/<cat>/<cat>_recon_add.yaml): batch 32, 2,000 epochs, Adam lr 1e-3 (0.9, 0.999)
for encoder and score net, the `linear` scheduler with step_epoch 2000 (lr constant for 1,000 epochs, then
linearly to 0.01 x lr at epoch 1,900, then constant: warm-up at the base lr, linear decay, cool-down),
10 sigmas 1 -> 0.01, 2,048 train / test points, recenter_per_shape; sampling 10 steps per sigma.
Generation (configs/gen/airplane_gen_add.yaml): the AE frozen from its checkpoint, latent WGAN with the
zero-centred gradient penalty (weight 1), one critic step per generator step, Adam 1e-4 (0.5, 0.9) for
both, batch 256, 10,000 epochs, 5 sigmas for sampling.
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
from research.three_d.shapegf.config import (
    PC15kDataConfig,
    ShapeGFAETrainingConfig,
    ShapeGFGanTrainingConfig,
    ShapeGFTaskConfig,
)

PC15K = "ShapeNetCore.v2.PC15k"


def ae_trainer(epochs: int = 2000, batch: int = 32, step_epoch: int = 2000) -> TrainerConfig:
    """Adam 1e-3 and the official `linear` lambda (start_ratio 0.5, duration_ratio 0.45, final_ratio 0.01)."""
    return TrainerConfig(
        epochs=epochs,
        global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="linear", base_lr=1e-3, warmup_epochs=0.5 * step_epoch, warmup_start_lr=1e-3,
                                   min_lr=1e-5, cooldown_epochs=epochs - 0.95 * step_epoch),
        validation_every_n_loops=0,  # reconstruction metrics run after training and with tools.evaluate
        checkpoints_to_keep=3,
        log_every_n_steps=10,
    )


def shapegf_experiment(model, categories, trainer, training, mode="auto_encode", path=PC15K, points=2048,
                       runtime: RuntimeConfig | None = None, eval_split: str = "val") -> ExperimentConfig:
    """eval_split "val": test.py / train.py's default --eval_split (the README's numbers)."""
    def data(split):
        return PC15kDataConfig(path=path, split=split, categories=tuple(categories), tr_points=points, te_points=points)

    return ExperimentConfig(
        task=ShapeGFTaskConfig(mode=mode),
        model=model,
        train_data=data("train"),
        eval_data=data(eval_split),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model",), atol=1e-4, verify_examples=2),
        training=training,
    )


def _ae(category: str) -> ExperimentConfig:
    return shapegf_experiment(model_config("shapegf_ae"), (category,), ae_trainer(), ShapeGFAETrainingConfig())


@register_experiment("shapegf_airplane_ae")
def shapegf_airplane_ae() -> ExperimentConfig:
    """Auto-encoding ShapeNet airplanes (airplane_recon_add.yaml; README: CD x1e4 0.966, EMD x1e2 2.632)."""
    return _ae("airplane")


@register_experiment("shapegf_chair_ae")
def shapegf_chair_ae() -> ExperimentConfig:
    """Auto-encoding ShapeNet chairs (chair_recon_add.yaml; README: CD x1e4 5.660, EMD x1e2 4.976)."""
    return _ae("chair")


@register_experiment("shapegf_car_ae")
def shapegf_car_ae() -> ExperimentConfig:
    """Auto-encoding ShapeNet cars (car_recon_add.yaml; README: CD x1e4 5.306, EMD x1e2 4.380)."""
    return _ae("car")


def gan_trainer(epochs: int = 10000, batch: int = 256) -> TrainerConfig:
    """opt_gen: Adam 1e-4 (0.5, 0.9), no scheduler (the critic's optimizer is the method's own)."""
    return TrainerConfig(
        epochs=epochs,
        global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.5, beta_2=0.9, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="constant", base_lr=1e-4),
        validation_every_n_loops=0,
        log_every_n_steps=10,
    )


@register_experiment("shapegf_airplane_gen")
def shapegf_airplane_gen() -> ExperimentConfig:
    """Latent-GAN generation of airplanes on the frozen airplane AE (set training.ae_checkpoint)."""
    return shapegf_experiment(model_config("shapegf_gen"), ("airplane",), gan_trainer(), ShapeGFGanTrainingConfig(),
                              mode="generate")


# --- CPU small run: `python -m tools.make_shapes3d --layout=pc15k --out=data/shapes_pc15k` -------------
SMALL_RUN_CLASSES = ("airplane",)  # the writer's first class (ellipsoids) lands in airplane's synset folder


@register_experiment("shapegf_tiny_shapes_ae")
def shapegf_tiny_shapes_ae() -> ExperimentConfig:
    """The tiny score net auto-encoding generated ellipsoids (512 points, 12 training shapes): 2,500 steps of
    batch 8 on 2 CPU cores (~5 minutes); evaluation on the 4 test shapes."""
    trainer = ae_trainer(epochs=2500, batch=8, step_epoch=2500)  # 12 training shapes: one step per epoch
    trainer.steps_per_loop = 250
    trainer.log_every_n_steps = 250
    cfg = shapegf_experiment(model_config("shapegf_tiny"), SMALL_RUN_CLASSES, trainer, ShapeGFAETrainingConfig(),
                             path="shapes_pc15k", points=512,
                             runtime=RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False),
                             eval_split="test")
    return cfg

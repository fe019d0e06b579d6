"""TopoGAN experiments: the official recipe (Archpool DCGAN entries 2/3, WGAN-GP) and CPU small runs.

Recipe (spec "Method", Main/GAN/Archpool notebooks): Adam 2e-4, betas (0.5, 0.999), batch 128, 2000 epochs
at a constant rate, WGAN-GP (gradient penalty 10), n_critic 5, topological loss weight 0.0005 on every
generator step (CREMI/ISBI), dimension 1, 64x64 grayscale patches, z ~ N(0, I_128).
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
from official.training.gan.config import GANConfig
from research.generative.topogan.task_config import TopologyDataConfig, TopologyTaskConfig


def topogan_experiment(model: str, path: str, trainer: TrainerConfig, training: GANConfig,
                       runtime: RuntimeConfig | None = None, eval_samples: int = 64) -> ExperimentConfig:
    trainer.validation_every_n_loops = 0  # no validation loss: the topology scores come at the end / tools.evaluate
    return ExperimentConfig(
        task=TopologyTaskConfig(eval_samples=eval_samples),
        model=model_config(model),
        train_data=TopologyDataConfig(path=path, split="train"),
        eval_data=TopologyDataConfig(path=path, split="test"),
        trainer=trainer,
        # the topological targets come from a host routine (tf.numpy_function), which XLA cannot compile
        runtime=runtime or RuntimeConfig(jit_compile=False),
        export=ExportConfig(formats=("saved_model",), verify_examples=2),
        training=training,
    )


def wgan_trainer(epochs: int, batch: int, steps_per_epoch: int = 0) -> TrainerConfig:
    return TrainerConfig(
        epochs=epochs, steps_per_epoch=steps_per_epoch, global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.5, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="constant", base_lr=2e-4), checkpoints_to_keep=3, log_every_n_steps=100)


def topogan_training(weight: float, d_filters: int = 64, generator_every: int = 5) -> GANConfig:
    return GANConfig(objective="topogan", gan_loss="wgan_gp", generator_every=generator_every,
                     objective_args={"topology_weight": weight, "d_filters": d_filters})


@register_experiment("topogan_dcgan64_cremi")
def topogan_dcgan64_cremi() -> ExperimentConfig:
    """CREMI membrane patches (ROOT/{train,test}/images + diagrams written by write_diagrams)."""
    return topogan_experiment("topogan_dcgan64", "cremi", wgan_trainer(2000, 128), topogan_training(0.0005))


@register_experiment("topogan_dcgan64_isbi")
def topogan_dcgan64_isbi() -> ExperimentConfig:
    """ISBI 2012 EM patches (same recipe)."""
    return topogan_experiment("topogan_dcgan64", "isbi", wgan_trainer(2000, 128), topogan_training(0.0005))


# CPU small runs on `python -m tools.make_thin_structures --out=data/membranes` (and --kind=roads): the tiny
# generator (8 filters, z 32), a 16-filter critic, batch 16, n_critic 5 as in the recipe. The topological
# weight is raised from 0.0005 (whose scale is set by batch 128 and long training) to 0.01 so that the term
# acts within a few hundred steps; `_notopo` is the same GAN without the topological loss.
SMALL_STEPS = 1000
SMALL_WEIGHT = 0.01


def _small(path: str, weight: float) -> ExperimentConfig:
    trainer = wgan_trainer(1, 16, steps_per_epoch=SMALL_STEPS)
    trainer.steps_per_loop = SMALL_STEPS // 2
    trainer.log_every_n_steps = 50
    return topogan_experiment("topogan_tiny", path, trainer, topogan_training(weight, d_filters=16),
                              RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False))


@register_experiment("topogan_tiny_membranes")
def topogan_tiny_membranes() -> ExperimentConfig:
    return _small("membranes", SMALL_WEIGHT)


@register_experiment("topogan_tiny_membranes_notopo")
def topogan_tiny_membranes_notopo() -> ExperimentConfig:
    return _small("membranes", 0.0)


@register_experiment("topogan_tiny_roads")
def topogan_tiny_roads() -> ExperimentConfig:
    return _small("roads", SMALL_WEIGHT)


@register_experiment("topogan_tiny_roads_notopo")
def topogan_tiny_roads_notopo() -> ExperimentConfig:
    return _small("roads", 0.0)

"""`training.method: gan`: wraps the task's generator in the objective named by `training.objective`.

TensorFlow is imported inside the methods that run under tf.distribute: the objectives import
`register_objective` from here, also under JAX on machines without TensorFlow (jax_step.py)."""

from __future__ import annotations

from collections.abc import Callable

import keras

from official.core.config import ConfigError
from official.core.registry import register_training_method
from official.training.gan.config import GANConfig
from official.training.method import TrainingMethod

_OBJECTIVES: dict[str, type] = {}


def register_objective(name: str) -> Callable[[type], type]:
    """Class decorator: an AdversarialTrainer subclass usable as `training.objective: NAME`."""

    def add(cls: type) -> type:
        if name in _OBJECTIVES:
            raise ValueError(f"GAN objective {name!r} registered twice")
        _OBJECTIVES[name] = cls
        return cls

    return add


def get_objective(name: str) -> type:
    if name not in _OBJECTIVES:  # objectives register from the zoo index (a test may import only one of them)
        from official.core import zoo_index

        zoo_index.import_all()
    if name not in _OBJECTIVES:
        known = ", ".join(sorted(_OBJECTIVES)) or "none registered"
        raise ConfigError(f"training.objective: unknown GAN objective {name!r} (known: {known})")
    return _OBJECTIVES[name]


@register_training_method("gan")
class AdversarialMethod(TrainingMethod):
    config_cls = GANConfig

    def wrap(self, model: keras.Model) -> keras.Model:
        import tensorflow as tf

        from official.core.trainer import plan_run  # the trainer imports the methods

        cfg: GANConfig = self.config.training
        objective = get_objective(cfg.objective)
        plan = plan_run(self.config, self.task, tf.distribute.get_strategy().num_replicas_in_sync)
        schedule_args = dict(steps_per_epoch=plan.steps_per_epoch, total_steps=plan.total_steps, lr_scale=plan.lr_scale)
        data = self.config.train_data  # translation data has a crop; square-image data (faces) an image_size
        crop = tuple(data.crop_size) if hasattr(data, "crop_size") else (data.image_size, data.image_size)
        return objective(model, cfg, self.config.trainer, schedule_args, (*crop, 3), seed=self.config.runtime.seed,
                         **cfg.objective_args)

    def callbacks(self, model: keras.Model) -> list:
        """A grid of translated eval images every `sample_every_n_steps` steps (chief only)."""
        import tensorflow as tf

        cfg: GANConfig = self.config.training
        model_dir = getattr(self, "model_dir", "")
        if cfg.sample_every_n_steps <= 0 or not model_dir:
            return []
        from official.core import strategy as strategy_lib
        from official.training.gan.samples import SampleGrids

        batch = next(iter(self.task.build_inputs(self.config.eval_data, False, cfg.sample_count)))
        images, network_fn = batch["a"].numpy(), lambda: model.inference_model
        if hasattr(model, "sample_batch"):  # objectives whose generator takes more than A (TSIT: a style, noise)
            images, network_fn = model.sample_batch({k: v.numpy() for k, v in batch.items()})
        return [SampleGrids(model_dir, images, cfg.sample_every_n_steps, network_fn,
                            strategy_lib.is_chief(tf.distribute.get_strategy()))]

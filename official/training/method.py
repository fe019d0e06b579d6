"""Training methods: how `tools.train` fits a model, chosen by the experiment's `training.method`.

A method wraps the task's model in a training-time `keras.Model` (a distiller with its frozen teacher,
a noise-augmenting trainer with its generator) that the one trainer compiles and fits like any model.
The wrapper exposes the network that is checkpointed, evaluated and exported as `inference_model`, so
checkpoints, `tools.evaluate` and `tools.export` see the plain classifier: teachers, noise generators
and schedules never reach a served graph. Method state that must survive a restart (a generator and
its replay buffer) is returned by `checkpoint_extras()` and saved beside the model.
"""

from __future__ import annotations

from typing import Any

import keras

from official.core import registry
from official.core.config import ConfigError, ExperimentConfig, TrainingMethodConfig


class TrainingMethod:
    """The plain method: the model is fitted as it is."""

    config_cls: type[TrainingMethodConfig] = TrainingMethodConfig

    def __init__(self, config: ExperimentConfig, task: Any):
        self.config = config
        self.task = task

    def wrap(self, model: keras.Model) -> keras.Model:
        """The model `fit` trains; its `inference_model` (default: itself) is what gets saved."""
        return model

    def prepare(self, model: keras.Model, resumed: int) -> None:
        """Work before the first step (after any checkpoint restore; `resumed` = restored step)."""

    def callbacks(self, model: keras.Model) -> list:
        """Keras callbacks the method needs during `fit`."""
        return []


def build_method(config: ExperimentConfig, task: Any) -> TrainingMethod:
    """The method named by `config.training.method`, checked against its config class."""
    name = config.training.method
    if name == "standard":
        return TrainingMethod(config, task)
    cls = registry.get_training_method(name)
    if not isinstance(config.training, cls.config_cls):
        raise ConfigError(
            f"training.method: {name} needs a {cls.config_cls.__name__} section, got "
            f"{type(config.training).__name__} (set training.method before its other keys)"
        )
    return cls(config, task)


def inference_model(model: keras.Model) -> keras.Model:
    """The network a training wrapper holds (the model itself when it is not a wrapper)."""
    return getattr(model, "inference_model", model)


def optimized_variables(model: keras.Model, network: keras.Model) -> list:
    """What the trainer's optimizer steps: the network's trainable variables, or a wrapper's
    `generator_variables` (a GAN objective with a second generator, official/training/gan)."""
    return list(getattr(model, "generator_variables", network.trainable_variables))


def checkpoint_extras(model: keras.Model) -> dict[str, Any]:
    """Trackable method state to checkpoint beside the model (`{}` for the plain method)."""
    extras = getattr(model, "checkpoint_extras", None)
    return dict(extras()) if extras is not None else {}

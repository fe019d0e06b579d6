"""A tiny registered convnet and its image-classification experiment, for trainer tests.

Seconds per run on 2 CPU cores, so tests can train, kill, resume and compare strategies in process or
in subprocesses (tests/official/core/distributed_worker.py). BatchNorm is optional: per-replica batch
statistics would make mirrored and single-device runs differ for reasons unrelated to the trainer, but
a resume test wants BN moving statistics among the weights it checks. The model is registered only on
request: `register()` in a subprocess, `registered(monkeypatch)` for one in-process test.
"""

from __future__ import annotations

import os

import keras

from official.core import config as config_lib
from official.core import registry

NAME = "tiny_convnet_test"


@keras.saving.register_keras_serializable(package="tests")
class TinyConvNet(keras.Model):
    def __init__(self, classes: int = 10, input_shape: tuple[int, int, int] = (32, 32, 3), batch_norm: bool = False,
                 **kwargs):
        inputs = keras.Input(input_shape)
        x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inputs)
        if batch_norm:
            x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Conv2D(16, 3, strides=2, activation="relu")(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        super().__init__(inputs, keras.layers.Dense(classes)(x), **kwargs)


def register() -> None:
    """Registers TinyConvNet as NAME for the rest of the process (a worker subprocess)."""
    if NAME not in registry.list_models():
        registry.register_variant(NAME, TinyConvNet)


def registered(monkeypatch) -> None:
    """Registers TinyConvNet as NAME for one test only (`monkeypatch` undoes it), so registry-wide
    tests that run later in the same pytest process never see a test model."""
    if NAME in registry.list_models():
        return
    build = registry.register_variant(NAME, TinyConvNet)
    del registry._MODELS[NAME]
    monkeypatch.setitem(registry._MODELS, NAME, build)


def tiny_experiment(
    data: str,
    steps: int,
    strategy: str = "one_device",
    global_batch_size: int = 32,
    steps_per_loop: int = 0,
    logical_cpus: int = 0,
    batch_norm: bool = False,
    optimizer: str = "sgd",
) -> config_lib.ExperimentConfig:
    """TinyConvNet on an ImageNet-layout folder `data` (train/, val/) without random augmentation."""
    folder = dict(
        image_size=32, random_resized_crop=False, horizontal_flip=False, crop_pct=1.0, deterministic=True, shuffle_buffer=1
    )
    return config_lib.ExperimentConfig(
        experiment="tiny_convnet_test",
        task=config_lib.TaskConfig(name="image_classification", num_classes=10),
        model=config_lib.model_config(NAME, batch_norm=batch_norm),
        train_data=config_lib.DataConfig(path=os.path.join(data, "train"), **folder),
        eval_data=config_lib.DataConfig(path=os.path.join(data, "val"), **folder),
        trainer=config_lib.TrainerConfig(
            train_steps=steps,
            steps_per_loop=steps_per_loop or steps,
            global_batch_size=global_batch_size,
            optimizer=config_lib.OptimizerConfig(name=optimizer, momentum=0.9),
            lr_schedule=config_lib.ScheduleConfig(name="constant", base_lr=0.05),
        ),
        runtime=config_lib.RuntimeConfig(strategy=strategy, num_logical_cpus=logical_cpus, jit_compile="false"),
    )

"""Loading trained weights for a method or a fine-tuning run: trainer.init_checkpoint and load_frozen.

`trainer.init_checkpoint` fills the network at a fresh start (Game of Noise fine-tunes torchvision's
ResNet-50 this way); `load_frozen` builds a teacher or base, restores every variable or refuses, and
freezes it.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import registry, trainer
from official.core.errors import UserError
from official.training.pretrained import load_frozen, resolve_checkpoint
from tests.tiny_models import NAME, registered, tiny_experiment


def _saved_weights(tmp_path, classes=10):
    keras.utils.set_random_seed(7)
    net = registry.create_model(NAME, classes=classes)
    path = str(tmp_path / "init.weights.h5")
    net.save_weights(path)
    directory = tmp_path / "run_dir" / "checkpoints"
    tf.train.CheckpointManager(tf.train.Checkpoint(model=net), str(directory), 1).save(checkpoint_number=5)
    return net, path, str(tmp_path / "run_dir")


def test_init_checkpoint_fills_the_network_at_a_fresh_start(digits_dir, tmp_path, monkeypatch):
    registered(monkeypatch)
    source, path, _ = _saved_weights(tmp_path)
    cfg = tiny_experiment(digits_dir, steps=1)
    cfg.trainer = dataclasses.replace(cfg.trainer, init_checkpoint=path,
                                      lr_schedule=dataclasses.replace(cfg.trainer.lr_schedule, base_lr=0.0))
    _, model = trainer.run_experiment(cfg, str(tmp_path / "run"), mode="train", return_model=True)
    for a, b in zip(source.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # lr 0: the one step leaves the loaded weights as they were


def test_load_frozen_restores_everything_or_refuses(tmp_path, monkeypatch):
    registered(monkeypatch)
    source, path, run_dir = _saved_weights(tmp_path)
    for checkpoint in (path, run_dir):  # a .weights.h5 and a MODEL_DIR (newest of its checkpoints/)
        frozen = load_frozen(config_lib.model_config(NAME), checkpoint, "training.teacher")
        assert not frozen.trainable_weights
        for a, b in zip(source.get_weights(), frozen.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    assert resolve_checkpoint(run_dir, "k").endswith("ckpt-5")
    with pytest.raises(config_lib.ConfigError, match="training.teacher_checkpoint"):
        load_frozen(config_lib.model_config(NAME, classes=3), run_dir, "training.teacher")  # another head
    with pytest.raises(UserError, match="training.teacher_checkpoint: no checkpoint given"):
        load_frozen(config_lib.model_config(NAME), "", "training.teacher")
    with pytest.raises(UserError, match="no checkpoint found"):
        resolve_checkpoint(str(tmp_path / "empty"), "trainer.init_checkpoint")

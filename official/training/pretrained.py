"""Loading a registered model with trained weights, frozen, for methods that lean on one.

A distillation teacher and a side-tuning base are registered models plus weights: a zoo run's
MODEL_DIR (newest checkpoint), a checkpoint prefix, or a `.weights.h5` file (what
`tools.convert_checkpoint` writes). They are built inside the caller's strategy scope, restored with
every variable matched (a teacher that silently kept random weights would distil noise) and frozen.
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from official.core import config as config_lib
from official.core.errors import PathNotFoundError
from official.core.model_files import build_network


def resolve_checkpoint(path: str, key: str) -> str:
    """A checkpoint prefix or `.weights.h5` file from `path` (MODEL_DIR, its checkpoints/, or a file)."""
    if not path:
        raise config_lib.ConfigError(f"{key}: no checkpoint given (a MODEL_DIR, a checkpoint or a .weights.h5)")
    path = os.path.expanduser(path)
    if path.endswith(".weights.h5"):
        if not os.path.isfile(path):
            raise PathNotFoundError(f"{key}: {path} does not exist")
        return path
    for directory in (os.path.join(path, "checkpoints"), path):
        if os.path.isdir(directory):
            latest = tf.train.latest_checkpoint(directory)
            if latest:
                return latest
    if tf.io.gfile.exists(f"{path}.index"):
        return path
    raise PathNotFoundError(f"{key}: no checkpoint found at {path}")


def restore_weights(model: keras.Model, checkpoint: str, key: str) -> str:
    """Loads `checkpoint` into `model`, every variable of the model matched; returns the file used."""
    path = resolve_checkpoint(checkpoint, key)
    try:
        if path.endswith(".weights.h5"):
            model.load_weights(path)
        else:
            tf.train.Checkpoint(model=model).restore(path).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError) as err:  # missing variables, other shapes
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise config_lib.ConfigError(f"{key}: {path} does not fit {model.name}: {first}") from err
    return path


def load_frozen(model_cfg: config_lib.ModelConfig, checkpoint: str, key: str) -> keras.Model:
    """Builds `model_cfg`'s model, restores `checkpoint` (all of the model's variables) and freezes it
    (`checkpoint` may be "" for a `keras_file` model, whose file holds its weights)."""
    model = build_network(model_cfg, key)
    if checkpoint or not model_cfg.keras_file:  # a .keras file carries its own weights
        restore_weights(model, checkpoint, f"{key}_checkpoint")
    model.trainable = False
    return model

"""The network of a model config: the registered variant it names, or a saved `.keras` file.

A network that no registered constructor builds, such as the smaller one `tools.prune` writes, enters
the usual commands through `model.keras_file`: `tools.train` fine-tunes it under tf.distribute,
`tools.evaluate` scores it and `tools.export` serves it, with the experiment's task and data. Its
layers may be zoo classes (DSA's `ChannelPad`), so the zoo's packages are imported before loading.
"""

from __future__ import annotations

import os

import keras

from official.core import config as config_lib
from official.core import registry
from official.core.errors import PathNotFoundError


def load_keras_file(path: str, key: str = "model.keras_file") -> keras.Model:
    """The model saved at `path` (`model.save(...)`), trainable; errors name `key` and the file."""
    if not path.endswith(".keras"):
        raise config_lib.ConfigError(f"{key}: {path} is not a .keras file (a model saved with model.save)")
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{key}: {path} does not exist")
    from official.core import zoo_index

    zoo_index.import_all()  # zoo layer classes the file may hold
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as err:  # a truncated zip, an unknown class: one line naming the file
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise config_lib.ConfigError(f"{key}: {path} could not be loaded: {first}") from err
    if not isinstance(model, keras.Model):
        raise config_lib.ConfigError(f"{key}: {path} holds a {type(model).__name__}, not a keras.Model")
    return model


def build_network(model_cfg: config_lib.ModelConfig, key: str = "model") -> keras.Model:
    """`model_cfg.keras_file` loaded when set, else the registered variant built with the config's arguments."""
    if model_cfg.keras_file:
        return load_keras_file(model_cfg.keras_file, f"{key}.keras_file")
    if not model_cfg.name:
        raise config_lib.ConfigError(f"{key}.name: no model is named in the experiment")
    return registry.create_model(model_cfg.name, **config_lib.model_kwargs(model_cfg))

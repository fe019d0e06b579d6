"""model.keras_file: a saved network (tools.prune's output) goes through tools.train / evaluate / export."""

from __future__ import annotations

import numpy as np
import pytest


def _saved_net(path: str, width: int = 3):
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3), name="images")
    x = keras.layers.Conv2D(width, 3, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(10, name="logits")(x))
    model.save(path)
    return model


def test_keras_file_replaces_the_variant_and_keeps_its_weights(tmp_path):
    from official.core import config as config_lib
    from official.core import trainer

    path = str(tmp_path / "net.keras")
    saved = _saved_net(path)
    cfg = config_lib.resolve("mobilenetv2_035_digits", params_override=f"model.keras_file={path}")
    assert "keras_file" not in config_lib.model_kwargs(cfg.model)
    model, _, step = trainer.restore_for_inference(cfg, "")
    x = np.random.default_rng(1).uniform(size=(2, 8, 8, 3)).astype("float32")
    assert step == 0 and model.count_params() == saved.count_params()
    np.testing.assert_allclose(model.predict(x, verbose=0), saved.predict(x, verbose=0), atol=1e-6)
    assert model.trainable


def test_keras_file_errors_name_the_key_and_file(tmp_path):
    from official.core import config as config_lib
    from official.core import trainer
    from official.core.errors import PathNotFoundError
    from official.core.model_files import build_network

    cfg = config_lib.resolve("mobilenetv2_035_digits")
    with pytest.raises(config_lib.ConfigError, match="--model_dir: no training folder"):
        trainer.restore_for_inference(cfg, "")
    cfg.model.keras_file = str(tmp_path / "missing.keras")
    with pytest.raises(PathNotFoundError, match="model.keras_file: .*missing.keras does not exist"):
        build_network(cfg.model)
    cfg.model.keras_file = str(tmp_path / "weights.h5")
    with pytest.raises(config_lib.ConfigError, match="model.keras_file: .*weights.h5 is not a .keras file"):
        build_network(cfg.model)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    cfg.model.keras_file = str(broken)
    with pytest.raises(config_lib.ConfigError, match="model.keras_file: .*broken.keras could not be loaded"):
        build_network(cfg.model)


def test_checkpoint_of_a_keras_file_network_needs_that_file(tmp_path):
    """A checkpoint of the saved (smaller) network restores into it, and into the unpruned variant as one error."""
    import tensorflow as tf

    from official.core import config as config_lib
    from official.core import trainer

    path = str(tmp_path / "net.keras")
    saved = _saved_net(path, width=5)
    saved.get_layer("conv").kernel.assign(np.full((3, 3, 3, 5), 0.25, "float32"))
    tf.train.Checkpoint(model=saved).save(str(tmp_path / "run" / "checkpoints" / "ckpt"))
    cfg = config_lib.resolve("mobilenetv2_035_digits", params_override=f"model.keras_file={path}")
    model, _, step = trainer.restore_for_inference(cfg, str(tmp_path / "run"))
    assert step == 1 and np.all(model.get_layer("conv").kernel.numpy() == 0.25)
    plain = config_lib.resolve("mobilenetv2_035_digits", params_override="model.input_shape=[8,8,3]")
    with pytest.raises(config_lib.ConfigError, match="does not fit the experiment's model.*--keras_file"):
        trainer.restore_for_inference(plain, str(tmp_path / "run"))

"""The model base: configs are the constructor arguments, and files written before it still load.

The fixtures in tests/fixtures/legacy_models were written by the code of commit 3a7df59, whose four
models wrote get_config by hand: their configs, .keras files and TF checkpoints must load unchanged.
"""

from __future__ import annotations

import inspect
import json
import os
import tarfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core.base_model import ZooLayer, ZooModel
from official.vision.backbones.dla import DLABackbone
from official.vision.backbones.hourglass import HourglassBackbone
from official.vision.cpn.model import CPN
from official.vision.mobilenetv2.model import MobileNetV2
from official.vision.mobilenext.model import MobileNeXt

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "fixtures", "legacy_models")
CLASSES = {c.__name__: c for c in (MobileNetV2, MobileNeXt, DLABackbone, HourglassBackbone, CPN)}
KEYS = ["mobilenetv2", "mobilenext", "dla", "hourglass", "cpn"]


def legacy(key: str) -> tuple[type, dict, dict]:
    with open(os.path.join(FIXTURES, f"{key}_config.json")) as f:
        meta = json.load(f)
    io = np.load(os.path.join(FIXTURES, f"{key}_io.npz"))
    return CLASSES[meta["class"]], meta["config"], {k: io[k] for k in io.files}


def flat_outputs(model, inputs) -> list[np.ndarray]:
    return [np.asarray(o) for o in keras.tree.flatten(model(inputs, training=False))]


def expected_outputs(key: str, io: dict) -> list[np.ndarray]:
    """The recorded outputs, with the one intended change since: CPN rejects a pair whose refined box is
    inverted (x2 < x1 or y2 < y1; issue 24), so such rows of its packed proposals now score -1."""
    outs = [io[k] for k in sorted((k for k in io if k.isdigit()), key=int)]
    if key == "cpn":
        packed = outs[0].copy()
        inverted = (packed[..., 2] < packed[..., 0]) | (packed[..., 3] < packed[..., 1])
        assert inverted.any()  # the fixture holds such rows: the change is exercised
        packed[..., 4] = np.where(inverted, -1.0, packed[..., 4])
        outs[0] = packed
    return outs


@pytest.mark.parametrize("key", KEYS)
def test_old_config_rebuilds_and_new_config_keeps_it(key):
    """Every old key comes back with its old value; keys added since are arguments left at their defaults."""
    cls, old_config, _ = legacy(key)
    model = cls.from_config(old_config)
    new_config = json.loads(json.dumps(model.get_config()))
    assert {k: new_config.get(k) for k in old_config} == old_config
    defaults = {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items()}
    for added in set(new_config) - set(old_config):
        assert new_config[added] == json.loads(json.dumps(defaults[added])), f"{added} is not at its default"


@pytest.mark.parametrize("key", KEYS)
def test_old_keras_file_loads_to_the_old_outputs(key):
    cls, _, io = legacy(key)
    model = keras.saving.load_model(os.path.join(FIXTURES, f"{key}.keras"), safe_mode=True)
    assert type(model) is cls
    for out, want in zip(flat_outputs(model, io["inputs"]), expected_outputs(key, io), strict=True):
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("key", ["mobilenext", "cpn"])
def test_old_tf_checkpoint_restores_every_variable(key, tmp_path):
    cls, old_config, io = legacy(key)
    with tarfile.open(os.path.join(FIXTURES, f"{key}_tfckpt.tar.gz")) as tar:
        tar.extractall(tmp_path, filter="data")
    model = cls.from_config(old_config)
    status = tf.train.Checkpoint(model=model).read(str(tmp_path / f"{key}_tfckpt" / "ckpt"))
    status.assert_existing_objects_matched()
    for out, want in zip(flat_outputs(model, io["inputs"]), expected_outputs(key, io), strict=True):
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


@keras.saving.register_keras_serializable(package="eccv20zoo_test")
class _Scale(ZooLayer):
    def __init__(self, factor: float, axes: tuple[int, ...] = (1,), **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor


@keras.saving.register_keras_serializable(package="eccv20zoo_test")
class _Tiny(ZooModel):
    def __init__(self, units: int = 3, sizes=(2, 3), head: keras.layers.Layer | None = None, **kwargs):
        inputs = keras.Input((4,))
        x = keras.layers.Dense(units)(inputs)
        x = (head or _Scale(2.0))(x)
        super().__init__(inputs, x, **kwargs)


def test_config_holds_defaults_tuples_and_keras_objects(tmp_path):
    model = _Tiny(units=5, sizes=[4, 5], head=_Scale(0.5, axes=[2]), name="tiny")
    config = model.get_config()
    assert config["units"] == 5 and config["sizes"] == (4, 5) and config["name"] == "tiny"
    assert "dtype" not in config
    assert config["head"]["class_name"] == "_Scale" and config["head"]["config"]["factor"] == 0.5
    clone = _Tiny.from_config(json.loads(json.dumps(config)))
    assert json.loads(json.dumps(clone.get_config())) == json.loads(json.dumps(config))
    assert _Scale(3.0).get_config()["axes"] == (1,)  # defaults are recorded
    x = np.ones((2, 4), "float32")
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(model(x)))
    assert model.trainable_parameter_count == 4 * 5 + 5


def test_non_config_argument_is_refused_by_name():
    model = _Tiny(sizes=(object(),))
    with pytest.raises(TypeError, match=r"_Tiny\.sizes"):
        model.get_config()


class _Blocks(ZooLayer):
    """Sublayers in a list, a nested list and a dict, as many zoo layers keep them."""

    def __init__(self, width: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.stages = [keras.layers.Dense(width, name=f"stage{i}") for i in range(2)]
        self.grid = [[keras.layers.Dense(width, name=f"g{i}{j}") for j in range(2)] for i in range(2)]
        self.heads = {"a": keras.layers.Dense(width, name="head_a")}
        self.scale = self.add_weight(shape=(width,), initializer="ones", name="scale")

    def call(self, x):
        for layer in [*self.stages, *self.grid[0], *self.grid[1], self.heads["a"]]:
            x = layer(x)
        return x * self.scale


def test_tf_checkpoint_holds_layers_kept_in_lists_and_dicts(tmp_path):
    """Keras 3 list/dict attributes are skipped by tf.train.Checkpoint unless the base adds them: every
    variable must be saved and restored (before the fix, 7 of the 8 sublayers came back random)."""
    x = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    saved, fresh = _Blocks(), _Blocks()
    saved(x), fresh(x)
    for v in saved.variables:
        v.assign(np.random.default_rng(1).normal(size=v.shape).astype(np.float32))
    path = tf.train.Checkpoint(model=saved).write(str(tmp_path / "ckpt"))
    stored = {name for name, _ in tf.train.list_variables(path)}
    assert sum("kernel" in n for n in stored) == 7, sorted(stored)
    tf.train.Checkpoint(model=fresh).read(path).assert_existing_objects_matched()
    np.testing.assert_array_equal(fresh(x), saved(x))
    for a, b in zip(fresh.variables, saved.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_loss_term_trackers_log_each_term_and_add_layer_losses():
    """LossTermTrackers: fit's logs carry each term's mean once, and the total includes the layers' own
    losses (a kernel regulariser here), which an overridden compute_loss would otherwise drop."""
    import numpy as np

    from official.core.base_model import LossTermTrackers

    class TwoTerms(LossTermTrackers, keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1, kernel_initializer="ones", kernel_regularizer=keras.regularizers.L2(0.5))
            self.track_loss_terms(["first", "second"])

        def call(self, x):
            return self.dense(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            terms = {"first": keras.ops.mean(y_pred), "second": keras.ops.convert_to_tensor(2.0)}
            return self.tracked_total(terms["first"] + terms["second"], terms)

    model = TwoTerms()
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    x = np.ones((4, 3), np.float32)
    logs = model.evaluate(x, np.zeros((4, 1), np.float32), return_dict=True, verbose=0)
    assert [m.name for m in model.metrics].count("first") == 1
    np.testing.assert_allclose(logs["first"], 3.0, rtol=1e-6)  # sum of three inputs of 1 with unit kernel
    np.testing.assert_allclose(logs["second"], 2.0, rtol=1e-6)
    np.testing.assert_allclose(logs["loss"], 3.0 + 2.0 + 0.5 * 3.0, rtol=1e-6)  # + L2(0.5) of the 3 ones

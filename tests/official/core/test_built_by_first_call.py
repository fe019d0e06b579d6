"""BuiltByFirstCall: a container layer is built by its first real call, without Keras' symbolic trace of
`call`, and keeps every variable through config, .keras and checkpoint round trips."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from official.core.base_model import BuiltByFirstCall, ZooLayer, ZooSubclassModel


class _Counting:
    calls = 0

    def call(self, x, training=None):
        type(self).calls += 1
        return self.bn(self.conv(ops.relu(x)), training=training)


@keras.saving.register_keras_serializable(package="eccv20zoo_test")
class TracedBlock(_Counting, ZooLayer):
    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.conv, self.bn = layers.Conv2D(channels, 3, padding="same"), layers.BatchNormalization()


@keras.saving.register_keras_serializable(package="eccv20zoo_test")
class EagerBlock(_Counting, BuiltByFirstCall, ZooLayer):
    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.conv, self.bn = layers.Conv2D(channels, 3, padding="same"), layers.BatchNormalization()


@keras.saving.register_keras_serializable(package="eccv20zoo_test")
class EagerNet(BuiltByFirstCall, ZooSubclassModel):
    def __init__(self, channels: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.blocks = [EagerBlock(channels, name=f"block{i}") for i in range(2)]
        self(ops.zeros((1, 8, 8, 3)))

    def call(self, x, training=None):
        for block in self.blocks:
            x = block(x, training=training)
        return x


def test_first_eager_call_runs_call_once_and_creates_the_variables():
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    TracedBlock.calls = EagerBlock.calls = 0
    traced, eager = TracedBlock(4), EagerBlock(4)
    traced(x), eager(x)
    assert TracedBlock.calls == 2  # Keras' build trace, then the call: what the mixin saves
    assert EagerBlock.calls == 1
    assert [v.shape for v in eager.weights] == [v.shape for v in traced.weights] and len(eager.weights) == 6


def test_subclass_model_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    net = EagerNet(4)
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 3)).astype("float32")
    for v in net.weights:
        v.assign(np.random.default_rng(2).normal(size=v.shape).astype("float32") * 0.1 + (1.0 if "variance" in v.path else 0.0))
    want = np.asarray(net(x, training=False))
    assert len(net.weights) == 12
    clone = EagerNet.from_config(net.get_config())
    clone.set_weights(net.get_weights())
    np.testing.assert_allclose(np.asarray(clone(x, training=False)), want, atol=1e-6)
    net.save(tmp_path / "net.keras")
    loaded = keras.saving.load_model(tmp_path / "net.keras")
    np.testing.assert_allclose(np.asarray(loaded(x, training=False)), want, atol=1e-6)
    import tensorflow as tf

    path = tf.train.Checkpoint(model=net).write(str(tmp_path / "ckpt"))
    restored = EagerNet(4)
    tf.train.Checkpoint(model=restored).read(path).assert_consumed()
    np.testing.assert_allclose(np.asarray(restored(x, training=False)), want, atol=1e-6)

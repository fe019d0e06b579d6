"""`helpers.assert_train_step_lowers_to_xla` passes a lowerable train step and fails one XLA cannot take."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests import helpers


class _HostOp(keras.layers.Layer):
    """A layer whose TF graph calls back into Python: no XLA kernel exists for it."""

    def call(self, x):
        y = tf.numpy_function(lambda a: a * 2.0, [x], tf.float32, stateful=False)
        return tf.ensure_shape(y, x.shape)

    def compute_output_shape(self, input_shape):
        return input_shape


def _compiled(extra: keras.layers.Layer | None) -> keras.Model:
    inputs = keras.Input((4,))
    h = inputs if extra is None else extra(inputs)  # before the Dense: its kernel still gets a gradient
    h = keras.layers.Dense(3)(h)
    model = keras.Model(inputs, h)
    model.compile(optimizer="sgd", loss="mse", jit_compile=False)
    return model


def test_lowering_passes_a_dense_step_and_fails_a_host_callback():
    x, y = np.ones((2, 4), np.float32), np.zeros((2, 3), np.float32)
    hlo = helpers.assert_train_step_lowers_to_xla(_compiled(None), x, y)
    assert "dot(" in hlo or "dot." in hlo  # the Dense matmul (forward and gradient) is in the module
    with pytest.raises(Exception, match="(?i)xla|compil|PyFunc|kernel"):
        helpers.assert_train_step_lowers_to_xla(_compiled(_HostOp()), x, y)

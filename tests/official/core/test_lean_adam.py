"""LeanAdam / LeanAdamW take Keras' Adam / AdamW steps bit for bit (TF graph and JAX), keep their variables
and checkpoint keys, and trace fewer ops per variable (the reason they exist)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core.lean_adam import LeanAdam, LeanAdamW
from tests import helpers

CASES = {
    "adam": (keras.optimizers.Adam, LeanAdam, dict(learning_rate=0.01)),
    "adam_amsgrad_clipnorm": (keras.optimizers.Adam, LeanAdam, dict(learning_rate=0.01, amsgrad=True, clipnorm=0.5)),
    "adamw": (keras.optimizers.AdamW, LeanAdamW, dict(learning_rate=0.01, weight_decay=0.05, beta_2=0.99)),
}


def _model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 2))
    h = keras.layers.Conv2D(4, 3)(inputs)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(h))
    return keras.Model(inputs, h)


def _train(optimizer: keras.optimizers.Optimizer, steps: int = 5):
    model = _model()
    model.compile(optimizer=optimizer, loss="mse", jit_compile=False)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 6, 6, 2)).astype(np.float32), rng.normal(size=(8, 3)).astype(np.float32)
    for _ in range(steps):
        model.train_on_batch(x, y)
    return model, optimizer


@pytest.mark.parametrize("case", sorted(CASES))
def test_steps_variables_and_checkpoint_keys_equal_keras(case, tmp_path):
    keras_cls, lean_cls, kwargs = CASES[case]
    ref_model, ref_opt = _train(keras_cls(**kwargs))
    model, opt = _train(lean_cls(**kwargs))
    initial = _model().get_weights()
    for i, (a, b, w0) in enumerate(zip(model.get_weights(), ref_model.get_weights(), initial, strict=True)):
        np.testing.assert_array_equal(a, b, err_msg=f"weight {i}")
        assert i >= 4 or np.abs(a - w0).max() > 1e-3  # the kernels moved (BN moving stats are weights 4+)
    assert [tuple(v.shape) for v in opt.variables] == [tuple(v.shape) for v in ref_opt.variables]  # same slots
    for a, b in zip(opt.variables, ref_opt.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)

    def keys(o):
        return sorted(k for k, _ in tf.train.list_variables(tf.train.Checkpoint(optimizer=o).write(str(tmp_path / o.name))))

    assert keys(opt) == keys(ref_opt)  # a run checkpointed with Keras' Adam resumes with LeanAdam
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(opt))
    assert type(restored) is lean_cls and restored.get_config() == opt.get_config()


def test_a_traced_step_has_fewer_ops_per_variable():
    def ops_of(optimizer) -> int:
        model = _model()
        optimizer.build(model.trainable_variables)
        grads = [tf.ones_like(v) for v in model.trainable_variables]
        fn = tf.function(lambda: optimizer.apply(grads, model.trainable_variables))
        return len(fn.get_concrete_function().graph.get_operations())

    n = len(_model().trainable_variables)
    saved = ops_of(keras.optimizers.Adam(0.01)) - ops_of(LeanAdam(0.01))
    assert saved >= 10 * (n - 1), (saved, n)  # measured: ~17 ops per variable


def test_jax_steps_equal_keras_adam():
    script = """
import keras, numpy as np
from official.core.lean_adam import LeanAdamW
def run(opt):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    model.compile(optimizer=opt, loss="mse")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    for _ in range(4):
        model.train_on_batch(x, y)
    return model.get_weights()
kw = dict(learning_rate=0.01, weight_decay=0.05)
a, b = run(keras.optimizers.AdamW(**kw)), run(LeanAdamW(**kw))
print("max diff", max(float(np.abs(p - q).max()) for p, q in zip(a, b)))
"""
    out = helpers.run_in_jax_worker(script)
    assert "max diff 0.0" in out, out

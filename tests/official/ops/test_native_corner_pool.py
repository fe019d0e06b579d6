"""C++ corner pool kernels == keras.ops composite == numpy, values and gradients (ties included).

The library is built by `pip install -e .`; this module fails at import, not skips, when it is missing.
Tie rule under test: each output's gradient goes to the NEAREST index attaining its max, which is what
TensorFlow derives for the composite (tf.maximum sends ties to its first argument).
"""

import numpy as np
import pytest
import tensorflow as tf

from official.ops import native
from official.ops.corner_pool import CornerPool, composite_corner_pool, corner_pool

LIB = native.library()
assert LIB is not None, f"C++ kernels should be built by `pip install -e .`: {native.unavailable_reason()}"

DIRECTIONS = ("top", "bottom", "left", "right")
SHAPES = [(1, 1, 1, 1), (1, 13, 7, 1), (3, 13, 7, 5), (2, 1, 9, 5), (2, 9, 1, 5), (3, 4, 16, 5)]
AXIS = {"top": 1, "bottom": 1, "left": 2, "right": 2}
SUFFIX = {"top": True, "bottom": False, "left": True, "right": False}


def numpy_pool(x: np.ndarray, direction: str) -> np.ndarray:
    axis = AXIS[direction]
    if SUFFIX[direction]:
        return np.flip(np.maximum.accumulate(np.flip(x, axis), axis=axis), axis)
    return np.maximum.accumulate(x, axis=axis)


def numpy_grad(x: np.ndarray, dy: np.ndarray, direction: str) -> np.ndarray:
    """Per output i: its window's nearest maximum (np.argmax takes the first, i.e. nearest, one)."""
    axis = AXIS[direction]
    xs, dys = np.moveaxis(x, axis, -1), np.moveaxis(dy, axis, -1)
    dx = np.zeros_like(xs, dtype=np.float64)
    n = xs.shape[-1]
    for i in range(n):
        if SUFFIX[direction]:
            j = i + np.argmax(xs[..., i:], axis=-1)
        else:
            j = i - np.argmax(xs[..., i::-1], axis=-1)
        np.put_along_axis(dx, j[..., None], np.take_along_axis(dx, j[..., None], -1) + dys[..., i : i + 1], -1)
    return np.moveaxis(dx, -1, axis).astype(np.float32)


def inputs(kind: str, shape: tuple, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.normal(size=shape).astype(np.float32)
    if kind == "integers":  # many ties
        return rng.integers(0, 3, size=shape).astype(np.float32)
    return np.full(shape, 2.5, np.float32)  # constant: every window is one tie


def kernel_value_and_grad(x, dy, direction):
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = LIB.zoo_corner_pool(xt, direction=direction)
    return y.numpy(), tape.gradient(y, xt, output_gradients=tf.constant(dy)).numpy()


def composite_value_and_grad(x, dy, direction):
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = composite_corner_pool(xt, direction)
    return y.numpy(), tape.gradient(y, xt, output_gradients=tf.constant(dy)).numpy()


@pytest.mark.parametrize("kind", ["normal", "integers", "constant"])
@pytest.mark.parametrize("shape", SHAPES)
def test_kernel_equals_composite_and_numpy(shape, kind):
    x = inputs(kind, shape, seed=sum(shape))
    dy = np.random.default_rng(7).normal(size=shape).astype(np.float32)
    for direction in DIRECTIONS:
        y_kernel, g_kernel = kernel_value_and_grad(x, dy, direction)
        y_comp, g_comp = composite_value_and_grad(x, dy, direction)
        np.testing.assert_array_equal(y_kernel, numpy_pool(x, direction), err_msg=direction)
        np.testing.assert_array_equal(y_comp, y_kernel, err_msg=direction)
        want = numpy_grad(x, dy, direction)
        np.testing.assert_allclose(g_kernel, want, rtol=1e-6, atol=1e-6, err_msg=direction)
        np.testing.assert_allclose(g_comp, g_kernel, rtol=1e-6, atol=1e-6, err_msg=direction)


def test_tie_rule_on_a_column():
    # top pool of [1, 3, 2, 3, 0]: outputs 0-3 see max 3; the nearest 3 is index 1 for outputs 0-1 and
    # index 3 for outputs 2-3; output 4 is its own max.
    x = np.array([1, 3, 2, 3, 0], np.float32).reshape(1, 5, 1, 1)
    dy = np.array([1, 10, 100, 1000, 10000], np.float32).reshape(1, 5, 1, 1)
    _, g = kernel_value_and_grad(x, dy, "top")
    np.testing.assert_array_equal(g.reshape(-1), [0, 11, 0, 1100, 10000])
    _, g = kernel_value_and_grad(x, dy, "bottom")  # nearest at or above: 3 at index 1 for outputs 1-2
    np.testing.assert_array_equal(g.reshape(-1), [1, 110, 0, 11000, 0])


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_numeric_gradient(direction):
    # Distinct values 0.1 apart: no ties, so finite differences are well defined.
    shape = (2, 5, 4, 3)
    x = (np.random.default_rng(3).permutation(np.prod(shape)).reshape(shape) * 0.1).astype(np.float32)
    theoretical, numerical = tf.test.compute_gradient(lambda t: LIB.zoo_corner_pool(t, direction=direction), [x])
    np.testing.assert_allclose(theoretical[0], numerical[0], atol=2e-3)


def test_shape_function_and_errors():
    spec = tf.TensorSpec([None, None, 7, 5], tf.float32)
    fn = tf.function(lambda t: LIB.zoo_corner_pool(t, direction="left"), input_signature=[spec])
    assert fn.get_concrete_function().structured_outputs.shape.as_list() == [None, None, 7, 5]
    with pytest.raises(ValueError, match="rank 4"):
        tf.function(lambda t: LIB.zoo_corner_pool(t, direction="top"))(tf.zeros([2, 3, 4]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="direction"):
        LIB.zoo_corner_pool(tf.zeros([1, 2, 2, 1]), direction="up")
    empty = LIB.zoo_corner_pool(tf.zeros([0, 3, 4, 2]), direction="top")
    assert empty.shape == (0, 3, 4, 2)


def _graph_ops(fn, x) -> set:
    """Op types of the traced graph, its function library included (gradients may live there)."""
    graph_def = fn.get_concrete_function(tf.constant(x)).graph.as_graph_def()
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    return {node.op for node in nodes}


def test_dispatch_kernel_composite_and_xla():
    x = inputs("integers", (2, 9, 6, 3), seed=1)
    plain = tf.function(lambda t: corner_pool(t, "top"))
    jitted = tf.function(lambda t: corner_pool(t, "top"), jit_compile=True)
    assert "ZooCornerPool" in _graph_ops(plain, x)
    assert "ZooCornerPool" not in _graph_ops(jitted, x) and "Maximum" in _graph_ops(jitted, x)
    np.testing.assert_array_equal(jitted(x).numpy(), plain(x).numpy())
    with native.composite_ops():
        forced = tf.function(lambda t: corner_pool(t, "top"))
        assert "ZooCornerPool" not in _graph_ops(forced, x)
    assert not native.kernel_applies(tf.constant(x, tf.float16))
    assert native.kernel_applies(tf.constant(x))


def test_layer_gradient_in_a_graph():
    x = inputs("integers", (2, 8, 8, 4), seed=2)
    layer = CornerPool("right")

    @tf.function
    def grad(t):
        with tf.GradientTape() as tape:
            tape.watch(t)
            loss = tf.reduce_sum(tf.square(layer(t)))
        return tape.gradient(loss, t)

    assert "ZooCornerPoolGrad" in _graph_ops(grad, x)
    dy = 2 * numpy_pool(x, "right")
    np.testing.assert_allclose(grad(tf.constant(x)).numpy(), numpy_grad(x, dy, "right"), rtol=1e-6)


def test_keras_fit_with_xla_takes_the_composite():
    # XLA has no kernel for ZooCornerPool: a jit-compiled train step must trace the composite.
    import keras

    inputs = keras.Input((8, 6, 2))
    pooled = keras.layers.GlobalAveragePooling2D()(CornerPool("top")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(pooled))
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    x = np.random.default_rng(4).normal(size=(4, 8, 6, 2)).astype(np.float32)
    history = model.fit(x, np.ones((4, 1), np.float32), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])

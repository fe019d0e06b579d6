"""Corner pooling equals a numpy reverse cumulative max exactly (spec check 1), on TF and JAX."""


import numpy as np
import pytest

from official.ops.corner_pool import CornerPool, corner_pool


def reference(x: np.ndarray, direction: str) -> np.ndarray:
    """np.maximum.accumulate on the (reversed) axis: the definition of each pool."""
    axis = 1 if direction in ("top", "bottom") else 2
    if direction in ("top", "left"):  # max over indices >= i: accumulate from the far end
        flipped = np.flip(x, axis)
        return np.flip(np.maximum.accumulate(flipped, axis=axis), axis)
    return np.maximum.accumulate(x, axis=axis)


@pytest.mark.parametrize("direction", ["top", "bottom", "left", "right"])
@pytest.mark.parametrize("shape", [(2, 13, 7, 3), (1, 1, 5, 2), (1, 16, 33, 4), (1, 128, 2, 1)])
def test_matches_numpy_exactly(direction, shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(np.float32)
    got = np.asarray(corner_pool(x, direction))
    np.testing.assert_array_equal(got, reference(x, direction))


def test_definition_on_a_column():
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0], np.float32).reshape(1, 8, 1, 1)
    top = np.asarray(corner_pool(x, "top")).reshape(-1)
    bottom = np.asarray(corner_pool(x, "bottom")).reshape(-1)
    np.testing.assert_array_equal(top, [9, 9, 9, 9, 9, 9, 6, 6])
    np.testing.assert_array_equal(bottom, [3, 3, 4, 4, 5, 9, 9, 9])


def test_layer_and_bad_direction():
    x = np.random.default_rng(1).normal(size=(1, 5, 6, 2)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(CornerPool("left")(x)), reference(x, "left"))
    with pytest.raises(ValueError, match="direction"):
        corner_pool(x, "up")


_JAX_SCRIPT = """
import numpy as np, keras
assert keras.backend.backend() == "jax"
from official.ops.corner_pool import corner_pool
import jax
rng = np.random.default_rng(0)
x = rng.normal(size=(2, 21, 11, 3)).astype(np.float32)
for d, axis, rev in [("top", 1, True), ("bottom", 1, False), ("left", 2, True), ("right", 2, False)]:
    ref = np.flip(np.maximum.accumulate(np.flip(x, axis), axis), axis) if rev else np.maximum.accumulate(x, axis)
    got = np.asarray(jax.jit(lambda t: corner_pool(t, d))(x))
    assert np.array_equal(got, ref), d
print("OK")
"""


@pytest.mark.jax
def test_jax_backend_exact():
    import jax  # noqa: F401  required (pyproject extra "jax"): a missing install fails, never skips

    from tests import helpers

    assert "OK" in helpers.run_in_jax_worker(_JAX_SCRIPT, timeout=120)

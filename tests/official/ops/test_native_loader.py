"""official.ops.native falls back to the keras.ops composites, with one log line, where kernels cannot run."""

import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from official.ops import native
from official.ops.corner_pool import corner_pool

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture
def fresh_loader(monkeypatch):
    native.reset()
    yield monkeypatch
    monkeypatch.undo()
    native.reset()  # the next user loads the real library again


def test_missing_library_falls_back_with_one_line(fresh_loader, caplog, tmp_path):
    missing = str(tmp_path / "kernels" / "_zoo_ops.so")
    fresh_loader.setattr(native, "LIBRARY_PATH", missing)
    with caplog.at_level(logging.INFO, logger="official.ops.native"):
        assert native.library() is None
        assert native.library() is None  # decided once, logged once
        x = np.random.default_rng(0).normal(size=(1, 6, 5, 2)).astype(np.float32)
        assert not native.kernel_applies(x)
        got = np.asarray(corner_pool(x, "bottom"))
    lines = [r.getMessage() for r in caplog.records if r.name == "official.ops.native"]
    assert len(lines) == 1 and "composites" in lines[0] and missing in lines[0], lines
    assert caplog.records[0].levelno == logging.INFO
    np.testing.assert_array_equal(got, np.maximum.accumulate(x, axis=1))


def test_failed_compile_is_a_warning(fresh_loader, caplog, tmp_path):
    (tmp_path / "_zoo_ops.build_error.txt").write_text("g++: error\n")
    fresh_loader.setattr(native, "LIBRARY_PATH", str(tmp_path / "_zoo_ops.so"))
    with caplog.at_level(logging.INFO, logger="official.ops.native"):
        assert native.library() is None
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "failed to compile" in caplog.records[0].getMessage()


def test_switch_forces_composites(fresh_loader):
    fresh_loader.setenv(native.ENV_SWITCH, "0")
    assert native.library() is None and native.unavailable_reason() == f"{native.ENV_SWITCH}=0"


_JAX_SCRIPT = """
import logging, sys
logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
import numpy as np
from official.ops import native
from official.ops.corner_pool import corner_pool
x = np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1)
assert np.array_equal(np.asarray(corner_pool(x, "left")), np.flip(np.maximum.accumulate(np.flip(x, 2), 2), 2))
assert native.library() is None
assert "tensorflow" not in sys.modules, "the JAX path imported TensorFlow"
print("OK")
"""


@pytest.mark.jax
def test_jax_backend_uses_composites_without_tensorflow():
    import jax  # noqa: F401  required (pyproject extra "jax"): a missing install fails, never skips

    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", _JAX_SCRIPT], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-2000:]
    lines = [line for line in out.stderr.splitlines() if line.startswith("official.ops.native")]
    assert lines == ["official.ops.native eccv20zoo ops: keras.ops composites (Keras backend is jax)"], out.stderr[-2000:]

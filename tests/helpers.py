"""Shared checks every model test calls in a few lines: build, forward, config and .keras round trips,
SavedModel round trip, and parity with the JAX backend (in a subprocess, same weights)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def random_inputs(model: keras.Model, batch: int = 2, seed: int = 0) -> np.ndarray:
    shape = [batch] + [d or 64 for d in model.inputs[0].shape[1:]]
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def check_config_round_trip(model: keras.Model) -> keras.Model:
    """from_config(get_config()) rebuilds the same architecture (same parameter count and output shape)."""
    clone = type(model).from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    return clone


def check_keras_round_trip(model: keras.Model, tmp_path, inputs: np.ndarray) -> None:
    """A .keras file reloads (safe_mode on) to identical outputs."""
    path = os.path.join(str(tmp_path), "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(inputs, training=False)), np.asarray(model(inputs, training=False)), atol=1e-6)


def check_jax_parity(model: keras.Model, tmp_path, inputs: np.ndarray, atol: float = 1e-4, build: str = "") -> float:
    """Runs the same weights under KERAS_BACKEND=jax in a subprocess; returns the max |difference|.

    `build` is a Python expression that rebuilds the model there (default: from_config of its class).
    """
    weights = os.path.join(str(tmp_path), "parity.weights.h5")
    model.save_weights(weights)
    np.save(os.path.join(str(tmp_path), "inputs.npy"), inputs)
    cls = type(model)
    with open(os.path.join(str(tmp_path), "config.json"), "w") as f:
        json.dump(model.get_config(), f)
    build = build or f"__import__('{cls.__module__}', fromlist=['x']).{cls.__name__}.from_config(config)"
    script = textwrap.dedent(
        f"""
        import json, sys, numpy as np
        sys.path.insert(0, {REPO!r})
        import keras
        assert keras.backend.backend() == "jax", keras.backend.backend()
        config = json.load(open({os.path.join(str(tmp_path), 'config.json')!r}))
        model = {build}
        model.load_weights({weights!r})
        out = model(np.load({os.path.join(str(tmp_path), 'inputs.npy')!r}), training=False)
        np.save({os.path.join(str(tmp_path), 'jax_out.npy')!r}, np.asarray(out))
        """
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    jax_out = np.load(os.path.join(str(tmp_path), "jax_out.npy"))
    diff = float(np.max(np.abs(jax_out - np.asarray(model(inputs, training=False)))))
    assert diff <= atol, f"TF vs JAX max |difference| {diff} > {atol}"
    return diff


def check_model(model: keras.Model, tmp_path, jax: bool = False, keras_file: bool = True) -> np.ndarray:
    """The shared model check; returns the model's outputs on random inputs."""
    inputs = random_inputs(model)
    outputs = np.asarray(model(inputs, training=False))
    assert np.all(np.isfinite(outputs))
    check_config_round_trip(model)
    if keras_file:
        check_keras_round_trip(model, tmp_path, inputs)
    if jax:
        check_jax_parity(model, tmp_path, inputs)
    return outputs

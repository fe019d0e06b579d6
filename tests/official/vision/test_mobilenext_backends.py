"""MobileNeXt beyond the forward pass: same logits under KERAS_BACKEND=jax, and a tiny overfit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from official.vision.mobilenext.model import MobileNeXt

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ARGS = dict(width=0.35, identity_divisor=2, classes=10, input_shape=(64, 64, 3))

JAX_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import keras
    from official.vision.mobilenext.model import MobileNeXt
    assert keras.backend.backend() == "jax", keras.backend.backend()
    model = MobileNeXt(**{args})
    model.load_weights(sys.argv[1])
    np.save(sys.argv[3], np.asarray(model(np.load(sys.argv[2]), training=False)))
    # The model module must import without TensorFlow (the GPU machine has none).
    assert "tensorflow" not in sys.modules, "official.vision.mobilenext.model imported tensorflow"
    """
)


def randomise(model: keras.Model, seed: int) -> None:
    """Random weights and BN statistics of unit scale, so that the logits are O(1) in inference mode."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        kind = v.path.split("/")[-1]
        if kind in ("gamma", "moving_variance"):
            value = rng.uniform(0.5, 1.5, v.shape)
        elif kind in ("beta", "moving_mean", "bias"):
            value = rng.normal(0.0, 0.1, v.shape)
        else:  # kernels: unit gain over the fan-in
            fan_in = int(np.prod(v.shape[:-1])) if "dw" not in v.path else int(np.prod(v.shape[:2]))
            value = rng.normal(0.0, fan_in**-0.5, v.shape)
        v.assign(value.astype("float32"))


@pytest.mark.slow  # 80 s on 2 shared cores: a fresh interpreter plus JAX's CPU compilation
@pytest.mark.jax
def test_jax_backend_matches_tensorflow(tmp_path):
    pytest.importorskip("jax")
    model = MobileNeXt(**ARGS)
    randomise(model, seed=0)
    x = np.random.default_rng(1).normal(size=(3, 64, 64, 3)).astype("float32")
    expected = np.asarray(model(x, training=False))
    assert np.abs(expected).max() > 0.1  # a comparison of near-zero logits would prove nothing
    model.save_weights(str(tmp_path / "w.weights.h5"))
    np.save(tmp_path / "x.npy", x)
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": REPO, "JAX_PLATFORMS": "cpu"}
    script = JAX_SCRIPT.format(args=repr(ARGS))
    cmd = [
        sys.executable,
        "-c",
        script,
        str(tmp_path / "w.weights.h5"),
        str(tmp_path / "x.npy"),
        str(tmp_path / "y.npy"),
    ]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_width_035_overfits_32_images():
    """32 noise images of 4 classes: 100% train accuracy (training and inference mode) within 300 steps."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 32, 32, 3)).astype("float32")
    y = np.repeat(np.arange(4), 8)
    model = MobileNeXt(width=0.35, classes=4, input_shape=(32, 32, 3))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=False,  # XLA's CPU depthwise-conv gradients are several times slower here
    )
    steps, chunk, inference_acc, train_acc = 0, 20, 0.0, 0.0
    while steps < 300 and inference_acc < 1.0:
        history = model.fit(x, y, batch_size=32, epochs=steps + chunk, initial_epoch=steps, verbose=0)
        steps += chunk
        train_acc = history.history["accuracy"][-1]
        # BN moving statistics lag the batch statistics while Adam keeps moving the weights; inference-mode
        # accuracy reaches 100% some tens of steps after training-mode accuracy does.
        inference_acc = float((model.predict(x, verbose=0).argmax(axis=1) == y).mean())
    assert train_acc == 1.0
    assert inference_acc == 1.0, f"inference-mode accuracy {inference_acc} after {steps} steps"

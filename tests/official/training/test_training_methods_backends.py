"""The three training methods' keras.ops code under JAX, and one XLA-compiled step of each wrapper.

Under KERAS_BACKEND=jax (a subprocess): the KD loss, Game of Noise's exact-norm projection and noise
generator, and a SideTuneNet forward (built from its config and weights, without importing
TensorFlow) give TensorFlow's values. Under TensorFlow, the distiller, the GNT wrapper and a
side-tuned network each take one `jit_compile=True` training step (CI would otherwise never compile
them; GPU users get XLA by default).
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import pytest

from official.losses.classification import SparseLabelSmoothingCrossEntropy
from official.losses.distillation import kd_kl
from official.training.autoaug_kd.distiller import Distiller
from official.training.game_of_noise.generator import NoiseGenerator, apply_generator
from official.training.game_of_noise.noise import exact_norm_step
from official.training.game_of_noise.trainers import NoiseTrainer
from official.vision.side_tuning.model import SideTuneNet
from tests.helpers import run_jax_script

_SCRIPT = """
import json, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from official.vision.side_tuning.model import SideTuneNet
d = dict(np.load(sys.argv[1]))
net = SideTuneNet.from_config(json.load(open(d["config"].item())))
net.load_weights(d["weights"].item())
out = {"side": np.asarray(net({"images": d["x"], "task_id": d["ids"]}, training=False))}
assert "tensorflow" not in sys.modules, "SideTuneNet imported tensorflow"
from official.losses.distillation import kd_kl
from official.training.game_of_noise.generator import apply_generator
from official.training.game_of_noise.noise import exact_norm_step
out["kd"] = np.asarray(kd_kl(d["t"], d["s"], 3.0))
out["eta"] = np.asarray(exact_norm_step(d["u"], d["delta"], 9.0))
out["gen"] = np.asarray(apply_generator([d[f"w{i}"] for i in range(8)], d["z"]))
np.savez(sys.argv[2], **out)
"""


@pytest.mark.jax
def test_methods_ops_and_side_tuning_net_match_under_jax(tmp_path):
    rng = np.random.default_rng(0)
    net = SideTuneNet(base="resnet20_cifar", num_tasks=2, classes_per_task=3)
    for v in net.trainable_weights:  # move every weight off its initial value (alpha, heads, sides)
        v.assign(np.asarray(v) + rng.normal(0, 0.05, v.shape).astype("float32"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(net.get_config()))
    weights = str(tmp_path / "net.weights.h5")
    net.save_weights(weights)
    gen = NoiseGenerator("3x3")
    for w in gen.weights_list:
        w.assign(rng.normal(0, 0.3, w.shape).astype("float32"))
    arrays = {
        "config": np.asarray(str(config)), "weights": np.asarray(weights),
        "x": rng.normal(size=(4, 32, 32, 3)).astype("float32"), "ids": np.array([0, 1, 1, 0], np.int32),
        "t": rng.normal(0, 2, (5, 7)).astype("float32"), "s": rng.normal(0, 2, (5, 7)).astype("float32"),
        "u": rng.uniform(0, 1, (3, 8, 8, 3)).astype("float32"), "delta": rng.normal(size=(3, 8, 8, 3)).astype("float32"),
        "z": rng.normal(size=(2, 10, 10, 3)).astype("float32"),
        **{f"w{i}": np.asarray(w) for i, w in enumerate(gen.weights_list)},
    }
    got = run_jax_script(_SCRIPT, tmp_path, **arrays)
    np.testing.assert_allclose(got["side"], net({"images": arrays["x"], "task_id": arrays["ids"]}), atol=1e-4)
    np.testing.assert_allclose(got["kd"], kd_kl(arrays["t"], arrays["s"], 3.0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["eta"], exact_norm_step(arrays["u"], arrays["delta"], 9.0), rtol=1e-5)
    np.testing.assert_allclose(got["gen"], apply_generator([arrays[f"w{i}"] for i in range(8)], arrays["z"]), atol=1e-4)
    assert os.path.getsize(weights) > 0


def _tiny(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization(),
                             keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])


def test_each_wrapper_takes_an_xla_step():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 16, 16, 3)).astype("float32"), rng.integers(0, 3, 8)
    ce = SparseLabelSmoothingCrossEntropy()
    wrappers = [
        Distiller(_tiny(0), _tiny(1), 2.0, 0.5, ce),
        NoiseTrainer(_tiny(0), "gauss", 0.5, 0.5, (127.5,) * 3, (127.5,) * 3),
    ]
    for model in wrappers:
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss=ce, jit_compile=True)
        before = [np.asarray(w).copy() for w in model.inference_model.trainable_weights]
        loss = model.train_on_batch(x, y, return_dict=True)["loss"]
        assert np.isfinite(loss)
        assert any(not np.array_equal(b, np.asarray(w)) for b, w in zip(before, model.inference_model.trainable_weights, strict=True))
    net = SideTuneNet(base="resnet20_cifar", num_tasks=2, classes_per_task=3)
    net.compile(optimizer=keras.optimizers.Adam(1e-2), loss=ce, jit_compile=True)
    xs = rng.normal(size=(8, 32, 32, 3)).astype("float32")
    assert np.isfinite(net.train_on_batch({"images": xs, "task_id": np.zeros(8, np.int32)}, y, return_dict=True)["loss"])

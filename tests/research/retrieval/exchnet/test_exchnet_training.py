"""ExchNet's alternating training on 4 synthetic classes of textured shapes (spec check 7): 12-bit codes
reach database mAP > 0.95 with XLA-compiled training steps; the trainer's objective, the refresh (anchors =
class means, DCC descent) and the exchange seen from the trainer."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.evaluation import retrieval
from research.retrieval.exchnet import variants  # noqa: F401  (registers the variants)
from research.retrieval.exchnet.config import ExchNetTrainingConfig
from research.retrieval.exchnet.method import ExchNetTrainer


def textured_shapes(per_class: int = 8, size: int = 32, seed: int = 0):
    """4 classes: horizontal stripes, vertical stripes, checkerboard, a filled disc; random phase and noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images, labels = [], []
    for c in range(4):
        for _ in range(per_class):
            p, period = rng.integers(0, 4), rng.integers(3, 6)
            if c == 0:
                img = ((yy + p) // period) % 2
            elif c == 1:
                img = ((xx + p) // period) % 2
            elif c == 2:
                img = (((yy + p) // period) + ((xx + p) // period)) % 2
            else:
                cy, cx = rng.integers(10, 22, 2)
                img = ((yy - cy) ** 2 + (xx - cx) ** 2 < rng.integers(25, 64)).astype(int)
            img = img * 2.0 - 1.0 + rng.normal(0, 0.3, (size, size))
            images.append(np.repeat(img[..., None], 3, -1))
            labels.append(c)
    return np.asarray(images, np.float32), np.asarray(labels)


def _trainer(labels, widths=(8, 16, 32, 64), **cfg):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    net = registry.create_model("exchnet_tiny", input_shape=(32, 32, 3), widths=widths)
    trainer = ExchNetTrainer(net, labels, 4, ExchNetTrainingConfig(dcc_sample=0, **cfg), seed=0)
    return net, trainer


def _batches(x, n):
    return [(x, np.arange(n))]


def test_overfit_four_textured_classes_database_map_with_xla_steps():
    """Check 7, trained by XLA-compiled steps (`jit_compile=True`: the contract's XLA step, at once)."""
    x, y = textured_shapes()
    net, trainer = _trainer(y, gamma=20.0, widths=(8, 8, 8, 8))
    trainer.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=True)
    before = {v.path: np.asarray(v).copy() for v in net.trainable_weights}
    trainer.refresh(_batches(x, len(y)), np.arange(len(y)), update_codes=False)  # anchors (as `prepare`)
    result = {"mAP": 0.0}
    for _ in range(8):  # outer iterations: 8 network steps, then anchors + DCC
        for _step in range(8):
            logs = trainer.train_on_batch(x, tf.constant(np.arange(len(y))), return_dict=True)
        report = trainer.refresh(_batches(x, len(y)), np.arange(len(y)))
        assert report["dcc_objective_after"] <= report["dcc_objective_before"] * (1 + 1e-9)
        codes = np.where(np.asarray(net(x, training=False)) >= 0, 1, -1)
        result = retrieval.retrieval_metrics(codes, y, codes, y)
        if result["mAP"] > 0.95:
            break
    assert result["mAP"] > 0.95, result
    assert 0.3 < logs["kept_fraction"] < 0.7 and np.isfinite(logs["loss"])
    moved = [v.path for v in net.trainable_weights if not np.allclose(before[v.path], np.asarray(v))]
    assert any("hash" in p for p in moved) and any("attention_conv" in p for p in moved)
    # anchors: class means of the inference-mode part features (refresh, step 3)
    parts = np.asarray(net.feature_model()(x, training=False)["parts"])
    np.testing.assert_allclose(np.asarray(trainer.anchors)[2], parts[y == 2].mean(0), rtol=1e-4, atol=1e-5)


def test_no_exchange_at_inference_and_keep_prob_one():
    x, y = textured_shapes(per_class=2)
    net, trainer = _trainer(y, keep_prob=1.0)
    trainer.anchors.assign(np.random.default_rng(0).normal(size=trainer.anchors.shape).astype("float32"))
    idx = np.arange(len(y))
    a = trainer.objective(x, y, np.asarray(trainer.database_codes)[idx], training=False, exchange=True)[0]
    b = trainer.objective(x, y, np.asarray(trainer.database_codes)[idx], training=False, exchange=False)[0]
    assert float(a) == float(b)  # keep_prob 1: nothing swapped
    np.testing.assert_array_equal(np.asarray(net(x, training=False)), np.asarray(net(x, training=False)))
    _, half = _trainer(y)
    half.anchors.assign(np.asarray(trainer.anchors))
    own = np.asarray(half.database_codes)[idx]
    c = half.objective(x, y, own, training=False, exchange=True)[1]["kept_fraction"]
    d = half.objective(x, y, own, training=False, exchange=True)[1]["kept_fraction"]
    assert 0 < float(c) < 1 and 0 < float(d) < 1
    assert float(half.objective(x, y, own, training=False, exchange=False)[1]["kept_fraction"]) == 1.0

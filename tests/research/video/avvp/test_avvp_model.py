"""HAN (research/video/avvp): parameter counts, shapes, MMIL pooling invariants, the shared HAN layer, label
smoothing and the loss (spec card avvp.md checks 1-4 and 6)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.core import registry
from research.video.avvp import losses
from research.video.avvp.layers import HybridAttention, mmil_pool
from tests.helpers import randomise_weights


def features(batch: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"audio": rng.normal(size=(batch, 10, 128)).astype(np.float32),
            "video_2d": rng.uniform(0, 2, (batch, 80, 2048)).astype(np.float32),
            "video_3d": rng.uniform(0, 2, (batch, 10, 512)).astype(np.float32)}


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    model = registry.create_model("avvp_tiny")
    randomise_weights(model, 0)
    return model


def test_parameter_counts():
    """Check 1: the modules used in forward: 4,569,675 (issue 19), of which the shared HAN layer 2,628,608."""
    model = registry.create_model("avvp_han")
    assert model.trainable_parameter_count == 4_569_675
    assert model.get_layer("han").count_params() == 2_628_608
    assert sum(isinstance(layer, HybridAttention) for layer in model.layers) == 1
    # avvp_tiny, d = 32: fc_a 4,128 + fc_v 65,568 + fc_st 16,416 + fc_fusion 2,080 + HAN 2 x 4,224 + 2 x 1,056
    # + 2 x 64 + three heads 3 x 825
    assert registry.create_model("avvp_tiny").trainable_parameter_count == 101_355


def test_shapes_and_probability_ranges(tiny):
    """Check 2 and the output ranges of check 3."""
    out = {k: np.asarray(v) for k, v in tiny(features(3), training=False).items()}
    assert {k: v.shape for k, v in out.items()} == {
        "global_prob": (3, 25), "a_prob": (3, 25), "v_prob": (3, 25), "frame_prob": (3, 10, 2, 25)}
    for key, value in out.items():
        assert value.min() >= 0.0 and value.max() <= 1.0, key
    assert np.ptp(out["frame_prob"]) > 0.1  # outputs that differ prove something


def test_mmil_pooling_matches_hand_computed_sums():
    """Check 3: attention normalisation and global = sum_t,m att_t * p * att_m, on random logits."""
    rng = np.random.default_rng(0)
    prob = rng.uniform(size=(2, 10, 2, 25)).astype(np.float32)
    fa, ma = (rng.normal(size=(2, 10, 2, 25)).astype(np.float32) * 3 for _ in range(2))
    g, a, v, frame_att, av_att = (np.asarray(x) for x in mmil_pool(prob, fa, ma))
    np.testing.assert_allclose(frame_att.sum(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(av_att.sum(2), 1.0, atol=1e-6)
    att_t = np.exp(fa) / np.exp(fa).sum(1, keepdims=True)
    att_m = np.exp(ma) / np.exp(ma).sum(2, keepdims=True)
    want = np.zeros((2, 25))
    for b in range(2):
        for t in range(10):
            for m in range(2):
                want[b] += att_t[b, t, m] * prob[b, t, m] * att_m[b, t, m]
    np.testing.assert_allclose(g, want, atol=1e-6)
    np.testing.assert_allclose(a, (att_t * prob)[:, :, 0].sum(1), atol=1e-6)
    np.testing.assert_allclose(v, (att_t * prob)[:, :, 1].sum(1), atol=1e-6)
    assert a.min() >= 0 and a.max() <= 1 and v.min() >= 0 and v.max() <= 1
    # the spec's "global_prob in [0, 1]" does not hold for MMIL_Net's pooling: the time attention is normalised
    # per modality and the modality attention per second, so sum_t,m can reach 2 (clamped before the BCE)
    assert g.min() >= 0 and g.max() <= 2 and g.max() > 1


def test_one_han_layer_serves_both_modalities(tiny):
    """Check 4: x_a'' = HAN(x_a, x_v) and x_v'' = HAN(x_v, x_a) with the same weights (dropout off)."""
    probe = keras.Model(tiny.inputs, [tiny.get_layer(n).output for n in ("fc_a", "fc_fusion")]
                        + [tiny.get_layer(n).input for n in ("audio_axis", "visual_axis")])
    x_a, x_v, a_out, v_out = (np.asarray(o) for o in probe(features(), training=False))
    han = tiny.get_layer("han")
    np.testing.assert_allclose(np.asarray(han(x_a, x_v, training=False)), a_out, atol=1e-5)
    np.testing.assert_allclose(np.asarray(han(x_v, x_a, training=False)), v_out, atol=1e-5)
    assert np.abs(a_out - v_out).max() > 0.1


def test_label_smoothing_and_loss():
    """Check 6 (eps_v = 0.9: 1 -> 0.95, 0 -> 0.05; audio stays 0/1) and the three clamped BCE terms."""
    y = np.array([[1.0, 0.0, 1.0]], np.float32)
    np.testing.assert_allclose(np.asarray(losses.smooth_targets(y, 0.9)), [[0.95, 0.05, 0.95]], atol=1e-7)
    np.testing.assert_array_equal(np.asarray(losses.smooth_targets(y, 1.0)), y)
    out = {"global_prob": np.array([[0.9, 0.0, 0.6]], np.float32), "a_prob": np.array([[0.7, 0.2, 1.0]], np.float32),
           "v_prob": np.array([[0.5, 0.1, 0.8]], np.float32), "frame_prob": np.zeros((1, 10, 2, 3), np.float32)}

    def bce(p, t):
        p = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
        return float(np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p))))

    total, terms = losses.han_loss(y, out, 1.0, 0.9)
    want = [bce(out["global_prob"], y), bce(out["a_prob"], y), bce(out["v_prob"], 0.9 * y + 0.05)]
    np.testing.assert_allclose([float(terms[k]) for k in losses.LOSS_TERMS], want, rtol=1e-5)
    assert float(total) == pytest.approx(sum(want), rel=1e-5)
    assert float(terms["audio_loss"]) < 20  # the clamp keeps p = 1.0 finite

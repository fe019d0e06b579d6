"""MemDPC model: parameter counts, shapes, the ConvGRU cell and the dense contrastive loss vs numpy, memory convexity,
bidirectional symmetry (spec card memdpc.md "Checks we can run here" 1-6)."""

import keras
import numpy as np
import pytest

from official.core.registry import create_model
from research.video.memdpc import losses
from research.video.memdpc.backbone import r2d3d
from research.video.memdpc.layers import ConvGru, MemoryPredictor
from research.video.memdpc.model import MemDpc
from tests.helpers import assert_distinct_initial_kernels


def _trainable(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def test_parameter_counts_of_named_variants():
    """Check 1: R-2D3D-18 / 34 backbones and the MemDPC_BD extras (spec card / issue 19)."""
    assert _trainable(r2d3d((2, 2, 2, 2), img_dim=32)) == 14_057_536
    assert _trainable(r2d3d((3, 4, 6, 3), img_dim=32)) == 32_422_208
    full = create_model("memdpc_r2d3d18")
    assert _trainable(full) - 14_057_536 == 1_379_072
    head = full.get_layer("memdpc")
    assert _trainable(head.agg_f) == 393_984 and _trainable(head.predictor) == 328_960 + 262_144
    # check 2, symbolically: (2, 8, 5, 128, 128, 3) -> features (., 8, 4, 4, 256), predictions (., 3, 4, 4, 256)
    assert tuple(full.output["features"].shape[1:]) == (8, 4, 4, 256)
    assert tuple(full.output["pred_forward"].shape[1:]) == (3, 4, 4, 256)
    assert tuple(create_model("memdpc_r2d3d34").output["features"].shape[1:]) == (8, 7, 7, 256)


def _np_official_loss(pred, gt):
    """get_loss re-derived in numpy on the official layouts: pred (B, C, P, H, W), gt (C, B, P, H*W)."""
    b, p, h, w, c = pred.shape
    pred_t = pred.transpose(0, 4, 1, 2, 3)
    gt_t = gt.transpose(4, 0, 1, 2, 3).reshape(c, b, p, h * w)
    score = pred_t.transpose(0, 2, 3, 4, 1).reshape(b * p * h * w, c) @ gt_t.reshape(c, b * p * h * w)
    m = score.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(score - m).sum(axis=1))
    tgt = np.arange(len(score))
    return np.mean(lse - score[tgt, tgt]), np.mean(score.argmax(axis=1) == tgt), score


def test_loss_matches_numpy_and_sanity_limits():
    rng = np.random.default_rng(0)
    pred, gt = rng.normal(size=(2, 3, 4, 4, 8)), rng.normal(size=(2, 3, 4, 4, 8))
    gt[:, :, :2] = pred[:, :, :2] + 0.1 * gt[:, :, :2]  # some positives win: top-1 is neither 0 nor 1
    loss, top1, _ = losses.dense_contrastive(pred.astype("float32"), gt.astype("float32"))
    ref_loss, ref_top1, score = _np_official_loss(pred, gt)
    assert score.shape == (96, 96)  # check 2: (2 * 3 * 16)^2
    np.testing.assert_allclose(float(loss), ref_loss, rtol=1e-5)
    assert float(top1) == pytest.approx(ref_top1) and 0 < ref_top1 < 1
    # check 4: pred = gt, large orthogonal features -> 0; all-equal features -> log(96)
    eye = 30.0 * np.eye(96, dtype="float32").reshape(2, 3, 4, 4, 96)
    assert float(losses.dense_contrastive(eye, eye)[0]) < 1e-6
    same = np.ones((2, 3, 4, 4, 8), "float32")
    assert float(losses.dense_contrastive(same, same)[0]) == pytest.approx(np.log(96), abs=1e-5)


def test_convgru_cell_matches_numpy_gate_equations():
    """Check 6: convrnn.ConvGRUCell's equations on random inputs, 1e-6; the layer runs the cell over time."""
    rng = np.random.default_rng(1)
    gru = ConvGru(6, 1, dropout=0.0, gain=1.0)
    gru.build((None, None, 3, 3, 5))
    for g in (gru.reset_gate, gru.update_gate, gru.out_gate):
        g.bias.assign(rng.normal(size=6).astype("float32"))
    x, h = rng.normal(size=(2, 3, 3, 5)).astype("float32"), rng.normal(size=(2, 3, 3, 6)).astype("float32")

    def conv(layer, a):
        return a @ np.asarray(layer.kernel)[0, 0] + np.asarray(layer.bias)

    def sig(a):
        return 1 / (1 + np.exp(-a))

    comb = np.concatenate([x, h], -1)
    u, r = sig(conv(gru.update_gate, comb)), sig(conv(gru.reset_gate, comb))
    o = np.tanh(conv(gru.out_gate, np.concatenate([x, h * r], -1)))
    np.testing.assert_allclose(np.asarray(gru.cell(x, h)), h * (1 - u) + o * u, atol=1e-6)
    seq = rng.normal(size=(2, 4, 3, 3, 5)).astype("float32")
    state = np.zeros((2, 3, 3, 6), "float32")
    for t in range(4):
        state = np.asarray(gru.cell(seq[:, t], state))
    np.testing.assert_allclose(np.asarray(gru(seq)), state, atol=1e-6)


def test_memory_read_is_convex():
    """Check 3: the addressing weights sum to 1 and ||z_hat|| <= max_i ||M_i||."""
    mem = MemoryPredictor(16, 32, gain=1.0)
    mem.build((None, 2, 2, 16))
    h = np.random.default_rng(2).normal(size=(3, 2, 2, 16)).astype("float32") * 3
    p = np.asarray(mem.address(h))
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-5)
    assert p.min() >= 0
    z = np.asarray(mem(h))
    np.testing.assert_allclose(z, np.einsum("bhwm,mc->bhwc", p, np.asarray(mem.memory)), atol=1e-5)
    assert np.linalg.norm(z, axis=-1).max() <= np.linalg.norm(np.asarray(mem.memory), axis=-1).max() + 1e-5


def test_bidirectional_symmetry_with_shared_gru():
    """Check 5: with agg_b = agg_f, reversing the block order swaps the forward and backward losses."""
    keras.utils.set_random_seed(3)
    model = MemDpc(img_dim=32, depths=(1, 1, 1, 1), widths=(4, 4, 8, 8), mem_size=16, gru_dropout=0.0, share_gru=True)
    clip = np.random.default_rng(3).normal(size=(2, 8, 5, 32, 32, 3)).astype("float32")
    out, rev = model(clip, training=False), model(clip[:, ::-1], training=False)
    np.testing.assert_allclose(np.asarray(rev["features"]), np.asarray(out["features"])[:, ::-1], atol=1e-5)
    _, terms = model.pretext_loss(out)
    _, terms_rev = model.pretext_loss(rev)
    assert abs(float(terms["loss_forward"]) - float(terms["loss_backward"])) > 2e-4  # the two directions differ
    assert float(terms_rev["loss_forward"]) == pytest.approx(float(terms["loss_backward"]), abs=2e-5)
    assert float(terms_rev["loss_backward"]) == pytest.approx(float(terms["loss_forward"]), abs=2e-5)


def test_same_shaped_convolutions_start_different():
    """kaiming_fan_out() per layer: one shared initializer gave every same-shaped 3D conv the same kernel."""
    assert assert_distinct_initial_kernels(r2d3d((2, 2, 2, 2), img_dim=32)) > 10

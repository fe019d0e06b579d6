"""GraphMemVOS memory module (research/video/graphmem_vos/memory.py) against numpy re-derivations of the
released code's equations: spec checks 2 (memory parameters), 3 (read weights, single-node output),
4 (permutation of memory nodes) and 7 (ConvGRU gates), plus the padded fixed-capacity memory."""

from __future__ import annotations

import numpy as np
import pytest

from research.video.graphmem_vos import memory as gm

CK, CV, H, W = 8, 16, 3, 4


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_gru(cell, x, h):
    """ConvGRU2.py's equations with the cell's weights."""
    (wr, br), (wz, bz), (wo, bo) = (g.get_weights() for g in (cell.reset_gate, cell.update_gate, cell.out_gate))
    xh = np.concatenate([x, h], -1)
    z, r = _sigmoid(xh @ wz + bz), _sigmoid(xh @ wr + br)
    n = np.tanh(np.concatenate([x, h * r], -1) @ wo + bo)
    return h * (1 - z) + n * z


def _np_read(mk, mv, qk):
    """softmax over all memory pixels of k_m . k_q / sqrt(Ck), readout (B, H, W, Cv), weights (B, M, HW)."""
    b = mk.shape[0]
    logits = np.einsum("bmc,bqc->bmq", mk.reshape(b, -1, CK), qk.reshape(b, -1, CK)) / np.sqrt(CK)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return np.einsum("bmq,bmd->bqd", p, mv.reshape(b, -1, CV)).reshape(b, H, W, CV), p


def _inputs(rng, b=2, t=4):
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    return f(b, t, H, W, CK), f(b, t, H, W, CV), f(b, H, W, CK), f(b, H, W, CV)


def _layer(mode="release", seed=0):
    layer = gm.EpisodicGraphMemory(CK, CV, graph_update=mode)
    layer.build()
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in layer.get_weights()])
    return layer


def test_parameter_count_matches_the_card():
    layer = gm.EpisodicGraphMemory()
    layer.build()
    assert layer.count_params() == 3_427_840
    assert layer.conv_fusion.count_params() == 262_656 and layer.linear_e.count_params() == 16_384
    assert layer.gru_h.count_params() == layer.gru_m.count_params() == 1_574_400


def test_convgru_matches_gate_equations():
    rng = np.random.default_rng(1)
    layer = _layer()
    x, h = rng.standard_normal((2, H, W, CV)).astype(np.float32), rng.standard_normal((2, H, W, CV)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(layer.gru_h(x, h)), _np_gru(layer.gru_h, x, h), atol=1e-5)


def test_read_weights_and_single_node_output():
    rng = np.random.default_rng(2)
    mk, mv, qk, qv = _inputs(rng)
    p = np.asarray(gm.read_weights(mk, qk))
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)  # sums to 1 over T*H*W for every query pixel
    mem, p_ref = _np_read(mk, mv, qk)
    np.testing.assert_allclose(p, p_ref, atol=1e-5)
    layer = _layer()
    out = np.asarray(layer(mk[:, :1], mv[:, :1], qk, qv))  # T = 1: no graph update
    np.testing.assert_allclose(out, np.concatenate([_np_read(mk[:, :1], mv[:, :1], qk)[0], qv], -1), atol=1e-5)
    mask = np.array([[True, False, False, False]] * 2)  # one valid node of four: the same
    np.testing.assert_allclose(np.asarray(layer(mk, mv, qk, qv, mask)), out, atol=1e-5)


def test_release_update_is_five_query_grus_on_the_original_readout():
    rng = np.random.default_rng(3)
    mk, mv, qk, qv = _inputs(rng)
    layer = _layer("release")
    mem, _ = _np_read(mk, mv, qk)
    h = qv
    for _ in range(5):
        h = _np_gru(layer.gru_h, h, mem)
    np.testing.assert_allclose(np.asarray(layer(mk, mv, qk, qv)), np.concatenate([h, qv], -1), atol=1e-4)


def test_paper_update_padding_and_node_permutation():
    rng = np.random.default_rng(4)
    mk, mv, qk, qv = _inputs(rng, t=5)
    layer = _layer("paper")
    out = np.asarray(layer(mk[:, :3], mv[:, :3], qk, qv))
    mask = np.array([[True, True, True, False, False]] * 2)
    np.testing.assert_allclose(np.asarray(layer(mk, mv, qk, qv, mask)), out, atol=1e-4)  # padded capacity
    perm = [2, 0, 1]
    np.testing.assert_allclose(np.asarray(layer(mk[:, perm], mv[:, perm], qk, qv)), out, atol=1e-4)
    release = _layer("release")
    assert np.abs(np.asarray(release(mk[:, :3], mv[:, :3], qk, qv)) - out).max() > 1e-2  # the node updates matter
    fused = layer.conv_fusion.get_weights()
    layer.conv_fusion.set_weights([fused[0] * 2, fused[1]])
    assert np.abs(np.asarray(layer(mk[:, :3], mv[:, :3], qk, qv)) - out).max() > 1e-3


def test_bad_graph_update_is_an_error():
    with pytest.raises(ValueError, match="graph_update"):
        gm.EpisodicGraphMemory(graph_update="both")


def test_edge_messages_match_pairwise_loop():
    """Summed messages into node x equal generate_edge(y -> x) summed over valid y != x, pair by pair."""
    rng = np.random.default_rng(5)
    mk, mv, _, _ = _inputs(rng, b=1, t=4)
    layer = _layer("paper")
    mask = np.array([[True, True, False, True]])
    got = np.asarray(layer._messages(mk, mv, mask))
    we = layer.linear_e.get_weights()[0]
    k, v = mk[0].reshape(4, -1, CK), mv[0].reshape(4, -1, CV)
    for x in range(4):
        want = np.zeros((H * W, CV))
        for y in range(4):
            if y == x or not mask[0, y]:
                continue
            logits = (k[y] @ we) @ k[x].T  # (HW_y, HW_x), no scaling
            p = np.exp(logits - logits.max(0))
            want += (p / p.sum(0)).T @ v[y]  # softmax over the sender's pixels
        np.testing.assert_allclose(got[0, x].reshape(-1, CV), want, atol=1e-4)

"""official/ops/temporal_segments.py against numpy loops: tIoU, hard and soft 1-D NMS, anchors, encode/decode,
matching (AherNet spec checks 1, 2 and 5)."""

from __future__ import annotations

import numpy as np
import pytest

from official.ops import temporal_segments as ts


def _iou_loop(a, b):
    out = np.zeros((len(a), len(b)))
    for i, (s1, e1) in enumerate(a):
        for j, (s2, e2) in enumerate(b):
            inter = max(0.0, min(e1, e2) - max(s1, s2))
            union = (e1 - s1) + (e2 - s2) - inter
            out[i, j] = inter / union if union > 0 else 0.0
    return out


def _random_segments(rng, n, span=100.0):
    s = rng.uniform(0, span, n)
    return np.stack([s, s + rng.uniform(0.5, 30, n)], -1).astype(np.float32)


def test_segment_iou_matches_loop_on_random_and_edge_cases():
    rng = np.random.default_rng(0)
    a, b = _random_segments(rng, 17), _random_segments(rng, 23)
    edges = np.array([[0, 10], [10, 20], [0, 0], [5, 5], [2, 8], [0, 10]], np.float32)  # touch, zero length, inside, equal
    a = np.concatenate([a, edges])
    b = np.concatenate([b, edges])
    got = np.asarray(ts.segment_iou(a, b))
    np.testing.assert_allclose(got, _iou_loop(a, b), atol=1e-6)
    assert got[-6 + 0, len(b) - 6 + 1] == 0.0  # touching
    assert got[-6 + 2, len(b) - 6 + 2] == 0.0  # two zero-length segments: union 0 -> 0
    assert got[-6 + 4, len(b) - 6 + 0] == pytest.approx(0.6)  # [2, 8] inside [0, 10]
    batched = np.asarray(ts.segment_iou(np.stack([a, a]), np.stack([b, b])))
    np.testing.assert_allclose(batched[1], got)


def _nms_loop(segs, scores, m, thr, method="hard", sigma=0.5, score_thr=-np.inf):
    segs, scores = segs.astype(np.float64), scores.astype(np.float64).copy()
    alive = scores >= score_thr
    picks = []
    while alive.any() and len(picks) < m:
        i = int(np.argmax(np.where(alive, scores, -np.inf)))
        picks.append((i, scores[i]))
        alive[i] = False
        iou = _iou_loop(segs[i : i + 1], segs)[0]
        inter = np.maximum(0, np.minimum(segs[i, 1], segs[:, 1]) - np.maximum(segs[i, 0], segs[:, 0]))
        if method == "hard":
            w = np.where(iou > thr, 0.0, 1.0)
        elif method == "linear":
            w = np.where(iou > thr, 1 - iou, 1.0)
        else:
            w = np.exp(-(iou**2) / sigma)
        w = np.where(inter > 0, w, 1.0)
        scores = np.where(alive, scores * w, scores)
        alive &= (w > 0) & (scores >= score_thr)
    return picks


@pytest.mark.parametrize("method", ["hard", "linear", "gaussian"])
def test_segment_nms_matches_greedy_loop(method):
    rng = np.random.default_rng(1)
    segs = _random_segments(rng, 40, span=60)
    segs[5] = segs[3]  # an exact duplicate
    scores = rng.random(40).astype(np.float32)
    score_thr = -np.inf if method == "hard" else 0.05
    out = ts.segment_nms(segs[None], scores[None], 12, iou_threshold=0.4, method=method, sigma=0.3,
                         score_threshold=score_thr)
    want = _nms_loop(segs, scores, 12, 0.4, method, 0.3, score_thr)
    n = int(np.asarray(out["num_detections"])[0])
    assert n == len(want)
    np.testing.assert_array_equal(np.asarray(out["indices"])[0, :n], [i for i, _ in want])
    np.testing.assert_allclose(np.asarray(out["scores"])[0, :n], [s for _, s in want], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(out["segments"])[0, :n], segs[[i for i, _ in want]], atol=1e-5)
    assert not np.asarray(out["valid"])[0, n:].any()


def test_segment_nms_is_class_aware():
    segs = np.array([[[0, 10], [0, 10], [0, 10]]], np.float32)
    out = ts.segment_nms(segs, np.array([[0.9, 0.8, 0.7]], np.float32), 3, 0.5, classes=np.array([[0, 1, 0]]))
    np.testing.assert_array_equal(np.asarray(out["indices"])[0], [0, 1, -1])


def test_aher_anchor_layout():
    """Spec check 1: 8 layers, lengths 128..1, 3 scales -> 765 anchors; layer 1 centers 2, 6, 10, ..."""
    centers, widths = ts.multiscale_anchors([128, 64, 32, 16, 8, 4, 2, 1], [4, 8, 16, 32, 64, 128, 256, 512])
    assert centers.shape == widths.shape == (765,)
    np.testing.assert_allclose(centers[:9], [2, 2, 2, 6, 6, 6, 10, 10, 10])
    np.testing.assert_allclose(widths[:3], [4, 4 * 1.260, 4 * 1.587], rtol=1e-6)
    np.testing.assert_allclose(centers[-3:], [256, 256, 256])
    np.testing.assert_allclose(widths[-1], 512 * 1.587, rtol=1e-6)


def test_encode_decode_round_trip_and_formula():
    """Spec check 2: encoding one ground truth against every anchor and decoding recovers it to 1e-4."""
    centers, widths = ts.multiscale_anchors([128, 64, 32, 16, 8, 4, 2, 1], [4, 8, 16, 32, 64, 128, 256, 512])
    gt = np.tile(np.array([[37.5, 211.0]], np.float32), (765, 1))
    enc = np.asarray(ts.encode_segments(gt, centers, widths))
    np.testing.assert_allclose(enc[0], [((37.5 + 211) / 2 - 2) / 4 / 0.1, np.log(173.5 / 4) / 0.1], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(ts.decode_segments(enc, centers, widths)), gt, atol=1e-4)


def test_match_anchors_thresholds_against_brute_force():
    """Spec check 5: IoU 0.85 -> positive (> 0.8), 0.5 -> ignored, 0.2 -> negative (< 0.3); counts match numpy."""
    centers = np.array([50.0, 50.0, 50.0, 300.0], np.float32)
    widths = np.array([20.0, 20 / 0.85, 40.0, 10.0], np.float32)  # IoU with [40, 60]: 1, 0.85, 0.5, 0
    gt = np.array([[[40.0, 60.0], [-1, -1]]], np.float32)
    out = ts.match_anchors(gt, np.array([[True, False]]), centers, widths, temporal_length=512)
    iou = np.asarray(out["iou"])[0]
    np.testing.assert_allclose(iou, [1.0, 0.85, 0.5, 0.0], atol=1e-5)
    assert np.asarray(out["iou_target"])[0, 3] == -1.0
    rng = np.random.default_rng(2)
    c, w = ts.multiscale_anchors([128, 64, 32, 16, 8, 4, 2, 1], [4, 8, 16, 32, 64, 128, 256, 512])
    gts = _random_segments(rng, 3, span=400)
    out = ts.match_anchors(gts[None], np.ones((1, 3), bool), c, w, temporal_length=512)
    clipped = np.stack([np.maximum(c - w / 2, 0), np.minimum(c + w / 2, 511)], -1)
    brute = _iou_loop(clipped, gts)
    best = np.asarray(out["iou"])[0]
    np.testing.assert_allclose(best, brute.max(1), atol=1e-5)
    np.testing.assert_array_equal(np.asarray(out["index"])[0], brute.argmax(1))
    assert (best > 0.8).sum() == (brute.max(1) > 0.8).sum() > 0
    assert (best < 0.3).sum() == (brute.max(1) < 0.3).sum()
    pos = best > 0
    dec = np.asarray(ts.decode_segments(np.asarray(out["offsets"])[0], c, w))
    np.testing.assert_allclose(dec[pos], gts[brute.argmax(1)][pos], atol=1e-3)

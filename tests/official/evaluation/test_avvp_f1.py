"""AVVP segment/event F1 (official/evaluation/avvp_f1.py) against hand-computed cases and an independent
re-derivation with Python sets (spec check 5; parity with the authors' eval_metrics is
benchmarks/avvp_eval_parity.py, recorded in benchmarks/results/avvp_eval_parity.json)."""

from __future__ import annotations

import numpy as np
import pytest

from official.evaluation import avvp_f1

C, T = 25, 10


def _events(row) -> list[set[int]]:
    """Runs of 1s as sets of segment indices, by a plain scan."""
    events, current = [], set()
    for t, value in enumerate(row):
        if value == 1:
            current.add(t)
        elif current:
            events.append(current)
            current = set()
    if current:
        events.append(current)
    return events


def _iou_ok(a: set, b: set) -> bool:
    return 2 * len(a & b) >= len(a | b)


def _counts(pred, gt, level: str) -> list[tuple[int, int, int]]:
    out = []
    for c in range(len(pred)):
        if level == "segment":
            p = {t for t in range(T) if pred[c][t] == 1}
            g = {t for t in range(T) if gt[c][t] == 1}
            out.append((len(p & g), len(p - g), len(g - p)))
        else:
            pe, ge = _events(pred[c]), _events(gt[c])
            tp = sum(any(_iou_ok(p, g) for g in ge) for p in pe)
            fn = sum(not any(_iou_ok(g, p) for p in pe) for g in ge)
            out.append((tp, len(pe) - tp, fn))
    return out


def _mean_f1(counts) -> float:
    f = [2 * tp / (2 * tp + fp + fn) for tp, fp, fn in counts if tp + fp or tp + fn]
    return sum(f) / len(f) if f else 1.0


def reference(level, pa, pv, ga, gv) -> tuple[float, float, float, float]:
    a, v = _counts(pa, ga, level), _counts(pv, gv, level)
    av = _counts(pa * pv, ga * gv, level)
    pooled = [tuple(x + y for x, y in zip(ca, cv, strict=True)) for ca, cv in zip(a, v, strict=True)]
    return _mean_f1(a), _mean_f1(v), _mean_f1(pooled), _mean_f1(av)


def _one(c: int, segments) -> np.ndarray:
    m = np.zeros((C, T), np.int64)
    m[c, list(segments)] = 1
    return m


@pytest.mark.parametrize("level", ["segment", "event"])
def test_random_videos_match_the_set_rederivation(level):
    rng = np.random.default_rng(1)
    fn = getattr(avvp_f1, f"{level}_level")
    for i in range(40):
        density = (0.05, 0.3, 0.7, 0.95)[i % 4]
        pa, pv, ga, gv = ((rng.random((C, T)) < density) & (rng.random((C, 1)) < 0.4) for _ in range(4))
        pa, pv, ga, gv = (x.astype(np.int64) for x in (pa, pv, ga, gv))
        got = fn(pa, pv, pa * pv, ga, gv, ga * gv)
        np.testing.assert_allclose(got, reference(level, pa, pv, ga, gv), atol=1e-12, err_msg=f"video {i}")


def test_hand_computed_segment_and_event_f1():
    z = np.zeros((C, T), np.int64)
    # all true negatives: every score is 1.0 (eval_metrics' convention)
    assert avvp_f1.segment_level(z, z, z, z, z, z) == (1.0, 1.0, 1.0, 1.0)
    assert avvp_f1.event_level(z, z, z, z, z, z) == (1.0, 1.0, 1.0, 1.0)
    cases = [  # (pred, gt, segment F1, event F1)
        ((0, range(0, 4)), (0, range(2, 6)), 4 / 8, 0.0),  # IoU 2/6: the event misses (FP 1, FN 1)
        ((1, range(0, 4)), (1, range(0, 2)), 4 / 6, 1.0),  # IoU exactly 0.5 counts as a hit
        ((2, [0, 2, 4]), (2, range(0, 5)), 6 / 8, 0.0),  # three single-segment events inside one: IoU 1/5 each
        ((3, [0, 1, 2, 3, 4, 5, 7, 8, 9]), (3, range(10)), 18 / 19, 2 / 3),  # 0.6 hit + 0.3 miss; [7, 10] touches 10
        ((4, [9]), (5, [9]), 0.0, 0.0),  # wrong class: FP in class 4, FN in class 5 (both averaged)
    ]
    for (pc, ps), (gc, gs), seg, ev in cases:
        p, g = _one(pc, ps), _one(gc, gs)
        assert avvp_f1.segment_level(p, z, z, g, z, z)[0] == pytest.approx(seg, abs=1e-12), (ps, gs)
        assert avvp_f1.event_level(p, z, z, g, z, z)[0] == pytest.approx(ev, abs=1e-12), (ps, gs)
        # visual empty on both sides: all true negatives there
        assert avvp_f1.segment_level(p, z, z, g, z, z)[1] == 1.0


def test_pooled_event_av_is_not_the_mean_of_audio_and_visual():
    z = np.zeros((C, T), np.int64)
    a = _one(0, range(0, 3))  # audio: predicted and true at [0, 3)
    v_gt = _one(0, range(5, 10))  # visual: one true event, nothing predicted
    f_a, f_v, pooled, f_av = avvp_f1.event_level(a, z, z, a, v_gt, a * v_gt)
    assert (f_a, f_v, f_av) == (1.0, 0.0, 1.0)  # av: nothing predicted, nothing true
    assert pooled == pytest.approx(2 / 3)  # TP 1, FN 1 pooled per class; the mean of audio and visual is 0.5


def test_dataset_means_and_type_av():
    scores = avvp_f1.ParsingF1()
    z = np.zeros((C, T), np.int64)
    scores.update(z, z, z, z)  # 1.0 everywhere
    g = _one(0, range(0, 4))
    scores.update(z, z, g, g)  # everything missed: 0 for audio, visual, av, pooled
    out = scores.result()
    assert out["videos"] == 2
    for level in ("segment", "event"):
        for key in avvp_f1.KEYS:
            assert out[f"{level}_{key}"] == pytest.approx(50.0), (level, key)
    scores.update(g, z, g, g)  # audio right, visual missed, av missed (nothing predicted there)
    out = scores.result()
    assert out["segment_audio"] == pytest.approx(200 / 3)
    assert out["segment_visual"] == pytest.approx(100 / 3)
    assert out["segment_type_av"] == pytest.approx((out["segment_audio"] + out["segment_visual"] + out["segment_av"]) / 3)
    assert out["segment_event_av"] == pytest.approx(100 * (1 + 0 + 2 / 3) / 3)  # pooled TP 4, FN 4 -> 2/3


def test_parse_predictions_filters_by_video_level_labels():
    frame = np.zeros((T, 2, C))
    frame[2:5, 0, 7] = 0.9  # audio class 7 at 2-4
    frame[:, 1, 7] = 0.6  # visual class 7 everywhere
    frame[:, 0, 9] = 0.99  # audio class 9, but the video-level probability is below 0.5
    glob = np.zeros(C)
    glob[7], glob[9] = 0.5, 0.49
    so_a, so_v, so_av = avvp_f1.parse_predictions(frame, glob)
    assert so_a.shape == (C, T) and so_a.sum() == 3 and so_a[7, 2:5].all()
    assert so_v.sum() == T and so_v[7].all()
    np.testing.assert_array_equal(so_av, so_a * so_v)

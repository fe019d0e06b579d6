"""ActivityNet detection mAP: hand-computed cases, an independent numpy re-derivation on random files, and
the CLI's JSON. Parity with the official eval_detection.py: benchmarks/activitynet_eval_parity.py
(recorded in benchmarks/results/activitynet_eval_parity.json; the official code is not in the repo)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from official.evaluation.activitynet_detection import TIOU_THRESHOLDS, evaluate_detection


def _gt(db):
    return {"database": {v: {"subset": "validation", "duration": 100.0, "annotations": [
        {"segment": list(s), "label": label} for s, label in anns]} for v, anns in db.items()}}


def _pred(res):
    return {"results": {v: [{"segment": list(s), "label": label, "score": score} for s, label, score in rows]
                        for v, rows in res.items()}}


def test_hand_computed_two_ground_truths_three_predictions():
    # ranks: TP (tIoU 1), FP (no overlap), TP (tIoU 0.8): precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1
    # AP = 1/2 * 1 + 1/2 * 2/3 = 5/6 for t <= 0.8; above 0.8 the third is FP: AP = 1/2.
    gt = _gt({"v": [((0, 10), "a"), ((20, 30), "a")]})
    pred = _pred({"v": [((0, 10), "a", 0.9), ((50, 60), "a", 0.8), ((20, 28), "a", 0.7)]})
    result = evaluate_detection(gt, pred)
    want = np.where(TIOU_THRESHOLDS <= 0.8 + 1e-12, 5 / 6, 0.5)
    np.testing.assert_allclose(result.mAP, want, atol=1e-12)
    assert result.as_dict()["average_mAP"] == pytest.approx(want.mean())
    assert list(result.as_dict()["mAP"]) == ["0.5", "0.55", "0.6", "0.65", "0.7", "0.75", "0.8", "0.85", "0.9", "0.95"]


def test_duplicates_one_match_per_ground_truth_and_missing_class_scores_zero():
    # the duplicate of a matched detection is a false positive: precision 1, 1/2 at recall 1, 1 -> AP 1;
    # then the class "b" with no predictions pulls the mAP to 1/2.
    gt = _gt({"v": [((0, 10), "a"), ((40, 50), "b")]})
    pred = _pred({"v": [((0, 10), "a", 0.9), ((0, 10), "a", 0.8)], "other": [((0, 10), "a", 0.1)]})
    result = evaluate_detection(gt, pred)
    np.testing.assert_allclose(result.ap[:, result.classes.index("a")], 1.0)
    np.testing.assert_allclose(result.mAP, 0.5)
    # a higher-scored duplicate ahead of the true match: FP first, TP second -> AP = 1 * 1/2
    pred = _pred({"v": [((0, 4), "a", 0.95), ((0, 10), "a", 0.9)]})
    np.testing.assert_allclose(evaluate_detection(gt, pred).ap[:, 0], np.where(TIOU_THRESHOLDS <= 0.4, 1, 0.5))


def test_unknown_labels_blocked_videos_and_other_subsets():
    gt = _gt({"v": [((0, 10), "a")], "w": [((0, 10), "a")]})
    gt["database"]["t"] = {"subset": "training", "duration": 9, "annotations": [{"segment": [0, 1], "label": "z"}]}
    pred = _pred({"v": [((0, 10), "a", 0.5), ((0, 10), "z", 0.9)], "w": [((80, 90), "a", 0.99)]})
    result = evaluate_detection(gt, pred)
    assert result.classes == ["a"] and result.unknown_labels == 1
    np.testing.assert_allclose(result.mAP, 0.25)  # FP then TP at recall 1/2: 1/2 * 1/2
    np.testing.assert_allclose(evaluate_detection(gt, pred, blocked_videos={"w"}).mAP, 1.0)


def _rederived_map(gt, pred, thresholds):
    """Independent: explicit loops, and AP as sum over recall steps of max precision at recall >= r."""
    classes = sorted({a["label"] for e in gt["database"].values() for a in e["annotations"]})
    maps = np.zeros((len(thresholds), len(classes)))
    for c, label in enumerate(classes):
        g = [(v, a["segment"]) for v, e in gt["database"].items() for a in e["annotations"] if a["label"] == label]
        p = [(v, r["segment"], r["score"]) for v, rows in pred["results"].items() for r in rows if r["label"] == label]
        p.sort(key=lambda x: -x[2])  # continuous random scores: no ties
        for k, t in enumerate(thresholds):
            used, hits = set(), []
            for v, (s, e), _ in p:
                best, best_j = -1.0, None
                for j, (gv, (gs, ge)) in enumerate(g):
                    if gv != v or j in used:
                        continue
                    inter = max(0.0, min(e, ge) - max(s, gs))
                    iou = inter / ((e - s) + (ge - gs) - inter)
                    if iou > best:
                        best, best_j = iou, j
                # the official walk skips taken ground truths, so the best free one decides
                hit = best_j is not None and best >= t
                if hit:
                    used.add(best_j)
                hits.append(hit)
            hits = np.array(hits, float)
            prec = np.cumsum(hits) / np.arange(1, len(hits) + 1)
            rec = np.cumsum(hits) / len(g)
            ap, prev = 0.0, 0.0
            for r in np.unique(rec[hits > 0]):
                ap += (r - prev) * prec[rec >= r].max()
                prev = r
            maps[k, c] = ap
    return maps.mean(axis=1)


def test_random_files_match_independent_rederivation():
    rng = np.random.default_rng(7)
    db, res = {}, {}
    for v in range(12):
        anns = []
        for _ in range(rng.integers(1, 4)):
            s = float(rng.uniform(0, 70))
            anns.append(((s, s + float(rng.uniform(2, 25))), f"c{rng.integers(3)}"))
        db[f"v{v}"] = anns
        rows = []
        for (s, e), label in anns:
            for _ in range(rng.integers(0, 3)):
                j = rng.normal(0, 2.0, 2)
                rows.append(((s + j[0], e + j[1]), label, float(rng.random())))
        for _ in range(rng.integers(0, 4)):
            s = float(rng.uniform(0, 90))
            rows.append(((s, s + 5), f"c{rng.integers(3)}", float(rng.random())))
        res[f"v{v}"] = rows
    gt, pred = _gt(db), _pred(res)
    result = evaluate_detection(gt, pred)
    assert 0.05 < result.average_mAP < 0.95  # a non-trivial case
    np.testing.assert_allclose(result.mAP, _rederived_map(gt, pred, TIOU_THRESHOLDS), atol=1e-12)


def test_cli_writes_fractions_and_names_bad_field(tmp_path):
    gt = _gt({"v": [((0, 10), "a"), ((20, 30), "a")]})
    gt["version"], gt["taxonomy"] = "VERSION 1.3", []
    pred = _pred({"v": [((0, 10), "a", 0.9), ((50, 60), "a", 0.8), ((20, 28), "a", 0.7)]})
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "pred.json").write_text(json.dumps(pred))
    bad = {"results": {"v": [{"label": "a", "segment": [0, 1]}]}}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    from tools import temporal_eval

    metrics = temporal_eval.run(str(tmp_path / "gt.json"), str(tmp_path / "pred.json"))
    assert metrics["mAP"]["0.5"] == pytest.approx(5 / 6) and metrics["mAP"]["0.95"] == pytest.approx(0.5)
    # one subprocess: the real CLI, --json written, and a bad file is a one-line error naming file and field
    out = tmp_path / "m.json"
    code = (
        "import subprocess, sys\n"
        f"a = subprocess.run([sys.executable, '-m', 'tools.temporal_eval', '--gt', {str(tmp_path / 'gt.json')!r},"
        f" '--pred', {str(tmp_path / 'pred.json')!r}, '--json', {str(out)!r}], capture_output=True, text=True)\n"
        f"b = subprocess.run([sys.executable, '-m', 'tools.temporal_eval', '--gt', {str(tmp_path / 'gt.json')!r},"
        f" '--pred', {str(tmp_path / 'bad.json')!r}], capture_output=True, text=True)\n"
        "print(a.returncode, b.returncode); print(b.stderr.strip())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    first, err = proc.stdout.strip().split("\n", 1)
    assert first == "0 2", proc.stdout + proc.stderr
    assert err.count("\n") == 0 and "bad.json" in err and "missing 'score'" in err
    written = json.loads(out.read_text())
    assert written["average_mAP"] == pytest.approx(metrics["average_mAP"])

"""Re-ID CMC/mAP (Market-1501 protocol) against a brute-force reference written from the protocol."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from official.evaluation import reid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _reference(dist, qp, gp, qc, gc):
    """Per query: sort (distance, gallery index), drop same pid+camid, AP = mean precision at each hit."""
    aps, firsts = [], []
    for i in range(len(qp)):
        ranked = sorted(range(len(gp)), key=lambda j: (dist[i][j], j))
        ranked = [j for j in ranked if not (gp[j] == qp[i] and gc[j] == qc[i])]
        hits = [gp[j] == qp[i] for j in ranked]
        if not any(hits):
            continue
        precisions, found = [], 0
        for rank, hit in enumerate(hits, start=1):
            if hit:
                found += 1
                precisions.append(found / rank)
        aps.append(sum(precisions) / len(precisions))
        firsts.append(hits.index(True))
    return {"mAP": sum(aps) / len(aps), **{f"rank{k}": sum(f < k for f in firsts) / len(firsts) for k in (1, 5, 10)}}


def _random_set(seed, nq=30, ng=120, ids=12, cams=4, dim=8):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(ids, dim))
    qp, gp = rng.integers(0, ids, nq), rng.integers(0, ids, ng)
    qf = centres[qp] + 0.8 * rng.normal(size=(nq, dim))
    gf = np.round(centres[gp] + 0.8 * rng.normal(size=(ng, dim)), 1)  # coarse: some equal distances
    return qf, qp, rng.integers(0, cams, nq), gf, gp, rng.integers(0, cams, ng)


@pytest.mark.parametrize("metric", reid.METRICS)
@pytest.mark.parametrize("seed", range(3))
def test_rank_metrics_equal_the_protocol_reference(seed, metric):
    qf, qp, qc, gf, gp, gc = _random_set(seed)
    dist = reid.distance_matrix(qf, gf, metric)
    got = reid.evaluate_rank(dist, qp, gp, qc, gc)
    want = _reference(dist.tolist(), qp.tolist(), gp.tolist(), qc.tolist(), gc.tolist())
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    brute = ((qf[:, None, :] - gf[None]) ** 2).sum(-1) if metric == "euclidean" else None
    if brute is not None:
        np.testing.assert_allclose(dist, brute, atol=1e-9)


def test_hand_case_same_camera_removed_and_unmatched_query_skipped():
    # query 0 (pid 1, cam 0): gallery ranked a(pid 1, cam 0: removed), b(pid 2), c(pid 1, cam 1), d(pid 1, cam 2)
    # -> kept b, c, d; hits at ranks 2 and 3: AP = (1/2 + 2/3) / 2; first match rank 2 (rank1 0, rank5 1)
    # query 1 (pid 3): no gallery image of pid 3 -> not scored
    dist = np.array([[0.0, 1.0, 2.0, 3.0], [0.5, 0.5, 0.5, 0.5]])
    got = reid.evaluate_rank(dist, [1, 3], [1, 2, 1, 1], [0, 0], [0, 1, 1, 2])
    assert got["scored_queries"] == 1 and got["queries"] == 2
    assert got["mAP"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert (got["rank1"], got["rank5"]) == (0.0, 1.0)


def test_cli_writes_the_json_and_names_a_missing_array(tmp_path):
    qf, qp, qc, gf, gp, gc = _random_set(7)
    path = str(tmp_path / "feats.npz")
    np.savez(path, query_feats=qf, query_pids=qp, query_camids=qc, gallery_feats=gf, gallery_pids=gp, gallery_camids=gc)
    out = str(tmp_path / "m.json")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-m", "tools.reid_eval", f"--features={path}", f"--json={out}"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with open(out) as f:
        written = json.load(f)
    want = _reference(reid.distance_matrix(qf, gf).tolist(), qp.tolist(), gp.tolist(), qc.tolist(), gc.tolist())
    assert set(want) <= set(written) and all(written[k] == pytest.approx(v, abs=1e-12) for k, v in want.items())
    bad = str(tmp_path / "bad.npz")
    np.savez(bad, query_feats=qf, query_pids=qp, query_camids=qc, gallery_feats=gf, gallery_pids=gp)
    proc = subprocess.run([sys.executable, "-m", "tools.reid_eval", f"--features={bad}"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: --features={bad}: missing array gallery_camids " \
        "(has query_feats, query_pids, query_camids, gallery_feats, gallery_pids)", proc.stderr


def test_inputs_that_do_not_fit_are_named():
    qf, qp, qc, gf, gp, gc = _random_set(1)
    arrays = dict(query_feats=qf, query_pids=qp, query_camids=qc, gallery_feats=gf, gallery_pids=gp[:-1], gallery_camids=gc)
    with pytest.raises(reid.ReidInputError, match=r"gallery_pids: expected shape \(120,\)"):
        reid.check_inputs(arrays)
    arrays["gallery_pids"], arrays["gallery_feats"] = gp, gf[:, :4]
    with pytest.raises(reid.ReidInputError, match="gallery_feats: dimension 4 differs from query_feats' 8"):
        reid.check_inputs(arrays)
    with pytest.raises(reid.ReidInputError, match="no query has a gallery match"):
        reid.evaluate_rank(np.zeros((1, 1)), [1], [1], [0], [0])


def test_parity_benchmark_compares_against_a_reference_it_is_given():
    """benchmarks/reid_parity.py's loop, run with the protocol reference above in torchreid's (cmc, mAP) form:
    zero difference; and a reference that keeps same-camera images shows up as a difference."""
    from benchmarks.reid_parity import compare

    def as_torchreid(keep_same_camera):
        def evaluate(dist, qp, gp, qc, gc, max_rank):
            cams = np.full_like(gc, -1) if keep_same_camera else gc
            got = reid.evaluate_rank(dist, qp, gp, qc, cams, max_rank=max_rank)
            return np.asarray(got["cmc"], np.float32), _reference(dist.tolist(), qp.tolist(), gp.tolist(),
                                                                  qc.tolist(), cams.tolist())["mAP"]
        return evaluate

    same = compare(as_torchreid(False), sets=2)["max_abs_diff"]
    assert same["mAP"] < 1e-12 and same["cmc"] < 1e-6
    assert compare(as_torchreid(True), sets=2)["max_abs_diff"]["mAP"] > 1e-3

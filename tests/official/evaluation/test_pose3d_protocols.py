"""Human3.6M and MuPoTS-3D protocols: subject lists, frame sampling, alignments, all vs matched, averaging."""

from __future__ import annotations

import numpy as np
import pytest

from official.core.errors import BadValueError
from official.evaluation import pose3d_protocols as P


def test_h36m_subject_lists_and_sampling():
    p1, p2 = P.H36M_PROTOCOLS["p1"], P.H36M_PROTOCOLS["p2"]
    assert p1.subjects("train") == p2.subjects("train") == (1, 5, 6, 7, 8)
    assert p1.subjects("test") == p2.subjects("test") == (9, 11)
    assert (p1.metric, p2.metric) == ("mpjpe", "pa_mpjpe")
    # 3DMPPE's own numbering (Human36M.py get_subject / evaluate)
    assert P.H36M_PROTOCOLS["3dmppe_p1"].subjects("train") == (1, 5, 6, 7, 8, 9)
    assert P.H36M_PROTOCOLS["3dmppe_p1"].subjects("test") == (11,)
    assert P.H36M_PROTOCOLS["3dmppe_p1"].metric == "rigid_mpjpe"
    assert P.H36M_PROTOCOLS["3dmppe_p2"].subjects("test") == (9, 11)
    assert p1.sampling("test") == 64 and p1.sampling("train") == 5
    keep = p1.keep([9, 9, 9, 11, 1, 9], [0, 63, 64, 128, 0, 65], "test")
    assert keep.tolist() == [True, False, True, True, False, False]
    assert p1.keep([1, 1, 9], [5, 6, 5], "train").tolist() == [True, False, False]
    with pytest.raises(BadValueError, match="protocol: expected one of"):
        P.get_h36m_protocol("p3")


def _rotation(rng):
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def test_h36m_alignments():
    rng = np.random.default_rng(0)
    gt = rng.normal(0, 300, (4, 17, 3))
    shifted = gt + np.array([10.0, -50.0, 400.0])  # root alignment removes a translation
    assert P.evaluate_h36m(shifted, gt, "p1")["mpjpe"] == pytest.approx(0.0, abs=1e-9)
    similar = 1.2 * gt @ _rotation(rng).T + 5.0  # Procrustes with scale removes a similarity
    assert P.evaluate_h36m(similar, gt, "p2")["pa_mpjpe"] == pytest.approx(0.0, abs=1e-6)
    assert P.evaluate_h36m(similar, gt, "p1")["mpjpe"] > 50
    assert P.evaluate_h36m(similar, gt, "3dmppe_p1")["rigid_mpjpe"] > 10  # rigid: the scale stays
    rigid = gt @ _rotation(rng).T - 7.0
    assert P.evaluate_h36m(rigid, gt, "3dmppe_p1")["rigid_mpjpe"] == pytest.approx(0.0, abs=1e-6)
    # per-action means: action 2 poses are 10 mm off at every non-root joint, action 3 poses 30 mm
    off = gt.copy()
    off[:2, 1:, 0] += 10.0
    off[2:, 1:, 0] += 30.0
    out = P.evaluate_h36m(off, gt, "p1", actions=[2, 2, 3, 3])
    assert out["per_action"] == pytest.approx({"Directions": 10 * 16 / 17, "Discussion": 30 * 16 / 17})
    assert out["mpjpe"] == pytest.approx(20 * 16 / 17) and out["count"] == 4


def _person(rng):
    return rng.normal(0, 200, (17, 3)) + np.array([rng.uniform(-2000, 2000), 0.0, rng.uniform(3000, 6000)])


def test_mupots_rel_abs_all_matched():
    rng = np.random.default_rng(1)
    gt = np.stack([_person(rng), _person(rng) + [3000.0, 0, 0]])
    # person 0 exact; person 1 shifted 200 mm in depth: rel error 0, abs error 200 (> 150)
    pred = gt + np.array([[0.0, 0, 0], [0, 0, 200.0]])[:, None]
    out = P.evaluate_mupots([pred], [gt])
    assert out["pck_rel_all"] == 100 and out["pck_abs_all"] == 50 and out["num_matched"] == 2
    # one prediction only (person 1 missed): all = half the joints, matched = the one found
    out = P.evaluate_mupots([pred[:1]], [gt])
    assert out["pck_rel_all"] == 50 and out["pck_rel_matched"] == 100 and out["num_gt"] == 2
    # AUC over 0:5:150 (31 thresholds, strict <) of a constant 100 mm error: thresholds 105..150 = 10 of 31
    out = P.evaluate_mupots([gt[:1] + [100.0, 0, 0]], [gt[:1]])
    assert out["auc_abs_all"] == pytest.approx(100 * 10 / 31) and out["pck_abs_all"] == 100
    assert out["pck_rel_all"] == 100 and out["auc_rel_all"] == pytest.approx(100 * 30 / 31)  # 0 < 0 fails


def test_mupots_averages_over_sequences_and_matches_one_to_one():
    rng = np.random.default_rng(2)
    seq1 = np.stack([_person(rng)])
    seq2 = np.stack([_person(rng) + [1500.0 * k, 0, 0] for k in range(3)])
    # sequence 1 perfect, sequence 2 all wrong by 1 m: mean over sequences is 50, not 25 (per person)
    out = P.evaluate_mupots([seq1, seq2 + 1000.0], [seq1, seq2], sequences=[1, 2], max_match_distance=np.inf)
    assert out["pck_abs_all"] == pytest.approx(50.0)
    # predictions listed in another order are matched back to their people
    order = [2, 0, 1]
    out = P.evaluate_mupots([seq2[order]], [seq2])
    assert out["pck_abs_all"] == 100 and out["num_matched"] == 3
    # a match farther than max_match_distance does not count
    out = P.evaluate_mupots([seq1 + 600.0], [seq1], max_match_distance=500.0)
    assert out["num_matched"] == 0 and out["pck_rel_all"] == 0 and np.isnan(out["pck_rel_matched"])

"""Spec check 2: feet matching recovers the crowd's correspondences; the cost threshold rejects a person
seen in one view only; the epipolar baseline on the same views; foot-point rules."""

import numpy as np

from research.three_d.crowd3dpose import geometry, matching
from research.three_d.crowd3dpose.synthetic import IMAGE_SIZE
from tests.research.three_d.crowd3dpose.conftest import view


def _match(crowd, b, frame, drop_a=None, drop_b=None):
    ka, pa = view(crowd, 0, frame)
    kb, pb = view(crowd, b, frame)
    if drop_a is not None:
        keep = [i for i, p in enumerate(pa) if p != drop_a]
        ka, pa = ka[keep], [pa[i] for i in keep]
    if drop_b is not None:
        keep = [i for i, p in enumerate(pb) if p != drop_b]
        kb, pb = kb[keep], [pb[i] for i in keep]
    h = geometry.view_homography(crowd.cameras[0].P, crowd.cameras[b].P)
    pairs = matching.match_feet(ka, kb, h, IMAGE_SIZE, IMAGE_SIZE)
    return [(pa[i], pb[j]) for i, j in pairs], pa, pb


def test_feet_matching_recovers_every_person(crowd):
    for frame in (0, 1):
        for b in (1, 2):
            pairs, _, _ = _match(crowd, b, frame)
            assert len(pairs) == 12
            assert all(p == q for p, q in pairs)


def test_threshold_leaves_a_single_view_person_unmatched(crowd):
    # Person k only in view 0, person m only in view 1: the assignment must pair 11 people and reject (k, m).
    positions = crowd.poses[0][:, 19, :2]
    k, m = np.unravel_index(np.argmax(np.linalg.norm(positions[:, None] - positions[None], axis=-1)), (12, 12))
    pairs, _, _ = _match(crowd, 1, 0, drop_a=int(m), drop_b=int(k))
    assert len(pairs) == 10 and all(p == q for p, q in pairs)
    assert int(k) not in [p for p, _ in pairs]
    # Without the threshold the leftover pair is forced.
    cost = matching.feet_cost(np.zeros((1, 2, 2)), np.full((1, 2, 2), 500.0))
    assert matching.assign(cost, np.inf) == [(0, 0)] and matching.assign(cost, 80.0) == []


def test_epipolar_baseline_matches_and_rejects(crowd):
    f = geometry.fundamental_matrix(crowd.cameras[0].P, crowd.cameras[2].P)
    ka, pa = view(crowd, 0)
    kb, pb = view(crowd, 2)
    pairs = matching.match_epipolar(ka, kb, f, max_distance=20.0)
    assert sorted(pa[i] for i, _ in pairs) == list(range(12)) and all(pa[i] == pb[j] for i, j in pairs)
    cost, mean = matching.epipolar_cost(ka, kb, f)
    assert cost.max() == 1.0 and mean[0, pb.index(pa[0])] < 3.0  # 1 px noise: the true pair lies on its lines


def test_foot_points_pick_the_lowest_confident_point_and_copy_a_missing_foot():
    kp = np.zeros((2, 23, 3))
    kp[:, 17:23, 2] = 0.9
    kp[0, 17:20, :2] = [[10, 50], [12, 55], [8, 53]]  # left: small toe lowest
    kp[0, 20:23, :2] = [[30, 60], [32, 58], [28, 61]]  # right: heel lowest
    kp[0, 21, 2] = 0.1  # an unconfident point is never chosen
    kp[1] = kp[0]
    kp[1, 20:23, 2] = 0.05  # right foot missing: copies the left
    feet, ok = matching.foot_points(kp)
    np.testing.assert_array_equal(feet[0], [[12, 55], [28, 61]])
    np.testing.assert_array_equal(feet[1], [[12, 55], [12, 55]])
    assert ok.all()
    kp[1, 17:20, 2] = 0.05
    assert not matching.foot_points(kp)[1][1]

"""NDN relation rules: vectorised extraction vs scalar if/elif rules, a hand-labelled fixture, inverses."""

import numpy as np

from official.evaluation import layout_relations as R


def _size_scalar(b1, b2):
    a1, a2 = b1[2] * b1[3], b2[2] * b2[3]
    if 0.9 * a1 < a2 < 1.1 * a1:
        return R.SIZE_EQUAL
    return R.SIZE_LARGER if a1 < a2 else R.SIZE_SMALLER


def _loc_scalar(b1, b2, canvas=False):
    if canvas:
        return R.LOC_TOP if b2[1] < 1 / 3 else (R.LOC_CENTER if b2[1] < 2 / 3 else R.LOC_BOTTOM)
    l1, t1, r1, bo1 = b1[0] - b1[2] / 2, b1[1] - b1[3] / 2, b1[0] + b1[2] / 2, b1[1] + b1[3] / 2
    l2, t2, r2, bo2 = b2[0] - b2[2] / 2, b2[1] - b2[3] / 2, b2[0] + b2[2] / 2, b2[1] + b2[3] / 2
    if bo2 <= t1:
        return R.LOC_TOP
    if bo1 <= t2:
        return R.LOC_BOTTOM
    if r2 <= l1:
        return R.LOC_LEFT
    if r1 <= l2:
        return R.LOC_RIGHT
    return R.LOC_CENTER


def test_rules_match_scalar_reference_on_1000_pairs():
    rng = np.random.default_rng(0)
    b1 = np.concatenate([rng.uniform(0.1, 0.9, (1000, 2)), rng.uniform(0.02, 0.5, (1000, 2))], 1)
    b2 = np.concatenate([rng.uniform(0.1, 0.9, (1000, 2)), rng.uniform(0.02, 0.5, (1000, 2))], 1)
    b2[:100] = b1[:100]  # identical boxes: equal + center
    b2[100:200, 2:] = b1[100:200, 2:] * np.array([1.0, 1.05])[None]  # within the equal band
    loc = R.location_relation(b1, b2)
    size = R.size_relation(b1, b2)
    can = R.canvas_location_relation(b2)
    assert loc.tolist() == [_loc_scalar(a, b) for a, b in zip(b1, b2, strict=True)]
    assert size.tolist() == [_size_scalar(a, b) for a, b in zip(b1, b2, strict=True)]
    assert can.tolist() == [_loc_scalar(None, b, canvas=True) for b in b2]
    assert set(loc.tolist()) == {1, 2, 3, 4, 5} and set(size.tolist()) == {1, 2, 3}


def test_hand_labelled_fixture():
    # Hand-drawn page: a headline across the top, an image bottom-left, a text box bottom-right
    # touching the image's right edge, and a text box inside the image.
    boxes = np.array([
        [0.5, 0.1, 0.8, 0.1],     # 1 headline: top third
        [0.25, 0.6, 0.4, 0.4],    # 2 image (l .05 r .45, t .4 b .8): centre third (yc .6)
        [0.65, 0.6, 0.4, 0.4],    # 3 text: touches the image (l .45), same area
        [0.25, 0.7, 0.1, 0.1],    # 4 small text inside the image, yc .7 -> bottom third
        [0.0, 0.0, 0.0, 0.0],     # padding
    ])
    mask = np.array([1, 1, 1, 1, 0], bool)
    loc, size = R.relation_matrices(boxes, mask)
    T, B, L, Rt, C = R.LOC_TOP, R.LOC_BOTTOM, R.LOC_LEFT, R.LOC_RIGHT, R.LOC_CENTER
    S, E, G = R.SIZE_SMALLER, R.SIZE_EQUAL, R.SIZE_LARGER
    expect_loc = np.array([
        [0, T, C, C, B, 0],
        [B, 0, B, B, B, 0],
        [C, T, 0, Rt, C, 0],
        [C, T, L, 0, L, 0],
        [T, T, C, Rt, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ])
    expect_size = np.array([
        [0, S, S, S, S, 0],   # canvas area 1 vs 0.08, 0.16, 0.16, 0.01
        [G, 0, G, G, S, 0],   # headline 0.08
        [G, S, 0, E, S, 0],
        [G, S, E, 0, S, 0],
        [G, G, G, G, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ])
    np.testing.assert_array_equal(loc, expect_loc)
    np.testing.assert_array_equal(size, expect_size)


def test_matrices_are_inverse_consistent():
    rng = np.random.default_rng(1)
    boxes = np.concatenate([rng.uniform(0.1, 0.9, (7, 2)), rng.uniform(0.05, 0.4, (7, 2))], 1)
    loc, size = R.relation_matrices(boxes)
    np.testing.assert_array_equal(loc.T, R.LOC_INVERSE[loc])
    np.testing.assert_array_equal(size.T, R.SIZE_INVERSE[size])


def test_touching_boxes_are_not_center():
    # Exact dyadic coordinates: edges touch exactly, the rules use '<=' so touching is top/left, not center.
    b1 = np.array([0.5, 0.5, 0.25, 0.25])
    above = np.array([0.5, 0.25, 0.25, 0.25])
    left = np.array([0.25, 0.5, 0.25, 0.25])
    assert R.location_relation(b1, above) == R.LOC_TOP and R.location_relation(above, b1) == R.LOC_BOTTOM
    assert R.location_relation(b1, left) == R.LOC_LEFT and R.location_relation(left, b1) == R.LOC_RIGHT

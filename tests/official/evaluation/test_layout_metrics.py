"""Layout metrics vs independent references: python loops, brute-force permutations, scipy assignment."""

import itertools

import numpy as np
import pytest

from official.evaluation import layout_metrics as M
from official.evaluation import layout_relations as R


def _ltrb(b):
    return b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2


def _alignment_loop(boxes, mask):
    valid = [b for b, m in zip(boxes, mask, strict=True) if m]
    n = len(valid)
    total = 0.0
    for i in range(n):
        ci = (*_ltrb(valid[i]),)
        ci = (ci[0], valid[i][0], ci[2], ci[1], valid[i][1], ci[3])
        d = None
        for j in range(n):
            if j == i:
                continue
            cj = (*_ltrb(valid[j]),)
            cj = (cj[0], valid[j][0], cj[2], cj[1], valid[j][1], cj[3])
            for k in range(6):
                v = abs(ci[k] - cj[k])
                d = v if d is None else min(d, v)
        total += -np.log(1 - (0.0 if d is None else d))
    return total / max(n, 1)


def _overlap_loop(boxes, mask):
    valid = [b for b, m in zip(boxes, mask, strict=True) if m]
    total = 0.0
    for i, bi in enumerate(valid):
        l1, t1, r1, b1 = _ltrb(bi)
        area = (r1 - l1) * (b1 - t1)
        for j, bj in enumerate(valid):
            if i == j or area <= 0:
                continue
            l2, t2, r2, b2 = _ltrb(bj)
            w, h = min(r1, r2) - max(l1, l2), min(b1, b2) - max(t1, t2)
            if w > 0 and h > 0:
                total += w * h / area
    return total / max(len(valid), 1)


def _random_layouts(rng, batch, n):
    boxes = np.concatenate([rng.uniform(0.1, 0.9, (batch, n, 2)), rng.uniform(0.02, 0.4, (batch, n, 2))], -1)
    mask = np.arange(n)[None] < rng.integers(1, n + 1, (batch, 1))
    boxes = np.where(mask[..., None], boxes, rng.uniform(0, 1, boxes.shape))  # padding holds garbage
    return boxes, mask


def test_alignment_and_overlap_match_loops_on_random_padded_layouts():
    rng = np.random.default_rng(0)
    boxes, mask = _random_layouts(rng, 40, 6)
    # Edge cases: touching boxes, identical boxes, a single element.
    boxes[0, :2] = [[0.25, 0.5, 0.5, 0.2], [0.75, 0.5, 0.5, 0.2]]
    mask[0] = [1, 1, 0, 0, 0, 0]
    boxes[1, :3] = [0.4, 0.4, 0.2, 0.3]
    mask[1] = [1, 1, 1, 0, 0, 0]
    mask[2] = [1, 0, 0, 0, 0, 0]
    align, over = M.alignment(boxes, mask), M.overlap(boxes, mask)
    np.testing.assert_allclose(align, [_alignment_loop(b, m) for b, m in zip(boxes, mask, strict=True)], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(over, [_overlap_loop(b, m) for b, m in zip(boxes, mask, strict=True)], rtol=1e-9, atol=1e-12)
    assert over[0] == 0.0  # touching, no strictly positive intersection
    assert over[1] == pytest.approx(2.0)  # 3 identical boxes: 6 ordered pairs / 3
    assert align[2] == 0.0 and over[2] == 0.0  # a single element
    assert over.max() > 0 and align.max() > 0


def test_spec_edge_cases():
    # Spec check 3: shared left edge -> alignment 0; disjoint -> overlap 0; two identical -> overlap 1.
    left = np.array([[0.2, 0.2, 0.2, 0.1], [0.3, 0.5, 0.4, 0.1], [0.25, 0.8, 0.3, 0.2]])
    assert M.alignment(left) == 0.0
    assert M.overlap(np.array([[0.2, 0.2, 0.1, 0.1], [0.7, 0.7, 0.1, 0.1]])) == 0.0
    assert M.overlap(np.array([[0.5, 0.5, 0.3, 0.3]] * 2)) == pytest.approx(1.0)


def _brute_layout_iou(b1, l1, b2, l2):
    n = len(l1)
    best = 0.0
    for perm in itertools.permutations(range(n)):
        if any(l1[i] != l2[p] for i, p in enumerate(perm)):
            continue
        best = max(best, sum(M.box_iou(b1[i], b2[p]) for i, p in enumerate(perm)) / n)
    return best


def test_max_iou_equals_brute_force_permutations():
    rng = np.random.default_rng(2)
    for n in range(1, 6):
        for _ in range(4):
            labels = rng.integers(0, 2, n)
            b1 = np.concatenate([rng.uniform(0.2, 0.8, (n, 2)), rng.uniform(0.1, 0.5, (n, 2))], 1)
            b2 = b1[rng.permutation(n)] + rng.normal(0, 0.05, (n, 4))
            l2 = rng.permutation(labels)
            assert M.layout_max_iou(b1, labels, b2, l2) == pytest.approx(_brute_layout_iou(b1, labels, b2, l2), abs=1e-12)
    # One class, <= 5 elements, over a set of layouts: brute force over layout permutations too.
    set1 = [(rng.uniform(0.1, 0.6, (3, 4)), np.zeros(3, int)) for _ in range(4)]
    set2 = [(rng.uniform(0.1, 0.6, (3, 4)), np.zeros(3, int)) for _ in range(4)]
    scores = np.array([[_brute_layout_iou(a, la, b, lb) for b, lb in set2] for a, la in set1])
    brute = max(np.mean([scores[i, p] for i, p in enumerate(perm)]) for perm in itertools.permutations(range(4)))
    assert M.max_iou(set1, set2) == pytest.approx(brute, abs=1e-12)
    assert M.max_iou(set1, set1) == pytest.approx(1.0)


def test_constraint_satisfaction_spec_check():
    rng = np.random.default_rng(3)
    boxes = np.array([[0.5, 0.1, 0.6, 0.1], [0.3, 0.5, 0.2, 0.2], [0.7, 0.85, 0.3, 0.2]])
    loc, size = R.relation_matrices(boxes)
    assert M.constraint_satisfaction(boxes, None, loc, size) == (12, 12)  # 6 pairs of 4 nodes, location + size
    # Only top/bottom relations given, boxes mirrored vertically: none hold.
    only_tb = np.where(np.isin(loc, [R.LOC_TOP, R.LOC_BOTTOM]), loc, 0)
    mirrored = boxes * [1, -1, 1, 1] + [0, 1, 0, 0]
    sat, given = M.constraint_satisfaction(mirrored, None, only_tb, np.zeros_like(size))
    assert given == 5 and sat == 0  # 3 element pairs + canvas->top and ->bottom; the centre one is not given
    partial = np.where(rng.uniform(size=loc.shape) < 0.5, loc, 0)
    sat, given = M.constraint_satisfaction(boxes, None, partial, np.zeros_like(size))
    assert sat == given
    assert M.constraint_accuracy([(3, 4), (1, 4)]) == 0.5

"""Paired rotated-box IoU (official/ops/rotated_iou.py) against shapely polygons and by-hand 3D overlaps."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from shapely.geometry import Polygon

from official.data import kitti_geometry as kg
from official.ops import rotated_iou as ri
from tests import helpers

KINDS = ("random", "identical", "contained", "disjoint", "rot90", "touching", "half_shift", "parallel")


def _random_box(rng, n):
    """(n, 7) float64 KITTI boxes (x, y, z, h, w, l, ry) over a car/pedestrian-like range of sizes."""
    x = rng.uniform(-30, 30, n)
    y = rng.uniform(0.5, 2.5, n)
    z = rng.uniform(5, 70, n)
    h = rng.uniform(0.8, 3.0, n)
    w = rng.uniform(0.4, 2.5, n)
    length = rng.uniform(0.4, 6.0, n)
    ry = rng.uniform(-np.pi, np.pi, n)
    return np.stack([x, y, z, h, w, length, ry], -1)


def _shift_local(box, dx, dz):
    """box moved by (dx, dz) in its own BEV frame (dx along the length, dz along the width)."""
    out = box.copy()
    c, s = np.cos(box[6]), np.sin(box[6])
    out[0] += c * dx + s * dz
    out[2] += -s * dx + c * dz
    return out


def _pairs(n=500, seed=0):
    """n float32 box pairs: n // len(KINDS) of each kind (the rest random), and the kind of each."""
    rng = np.random.default_rng(seed)
    a = _random_box(rng, n)
    b = np.empty_like(a)
    kinds = [KINDS[i % len(KINDS)] for i in range(n)]
    for i, kind in enumerate(kinds):
        box = a[i]
        if kind == "random":  # near a, any angle and size: everything from disjoint to contained
            b[i] = _random_box(rng, 1)[0]
            b[i, :3] = box[:3] + rng.uniform(-1, 1, 3) * [3.0, 1.0, 3.0]
        elif kind == "identical":
            b[i] = box
        elif kind == "contained":  # small enough to fit at any angle
            b[i] = box
            b[i, 4:6] = min(box[4], box[5]) * rng.uniform(0.1, 0.6, 2)
            b[i, 6] = rng.uniform(-np.pi, np.pi)
            free = 0.5 * (min(box[4], box[5]) - np.hypot(b[i, 4], b[i, 5])) / np.sqrt(2)
            b[i] = _shift_local(b[i], *rng.uniform(-1, 1, 2) * max(free, 0.0))
            b[i, 3] = box[3] * rng.uniform(0.2, 1.0)
        elif kind == "disjoint":
            b[i] = _random_box(rng, 1)[0]
            b[i, 0] = box[0] + rng.choice([-1, 1]) * rng.uniform(7.0, 20.0)
        elif kind == "rot90":
            b[i] = box
            b[i, 6] = box[6] + rng.choice([-1, 1]) * np.pi / 2
        elif kind == "touching":  # shares a whole edge, no area
            side = rng.integers(2)
            b[i] = _shift_local(box, box[5] if side == 0 else 0.0, box[4] if side == 1 else 0.0)
        elif kind == "half_shift":  # two collinear shared edges, overlap is half a box
            b[i] = _shift_local(box, rng.choice([-0.5, 0.5]) * box[5], 0.0)
        else:  # same heading, different sizes and offsets: parallel edges everywhere
            b[i] = box
            b[i, 4:6] = box[4:6] * rng.uniform(0.5, 1.5, 2)
            b[i] = _shift_local(b[i], *(rng.uniform(-1, 1, 2) * box[[5, 4]]))
    return a.astype(np.float32), b.astype(np.float32), kinds


def _polygon(box):
    return Polygon(kg.bev_corners(box[:3], box[3:6], box[6]))


def _reference(a, b):
    """(inter_area, bev_iou, iou_3d) from shapely, in float64, of the float32 boxes."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    inter, bev, iou3d = [], [], []
    for ba, bb in zip(a, b, strict=True):
        pa, pb = _polygon(ba), _polygon(bb)
        area = pa.intersection(pb).area
        overlap = max(0.0, min(ba[1], bb[1]) - max(ba[1] - ba[3], bb[1] - bb[3]))
        vol = area * overlap
        inter.append(area)
        bev.append(area / (pa.area + pb.area - area))
        iou3d.append(vol / (pa.area * ba[3] + pb.area * bb[3] - vol))
    return np.array(inter), np.array(bev), np.array(iou3d)


def test_bev_corners_match_kitti_geometry():
    a, _, _ = _pairs(40, seed=1)
    want = kg.bev_corners(
        a[:, :3].astype(np.float64), a[:, 3:6].astype(np.float64), a[:, 6].astype(np.float64)
    )
    np.testing.assert_allclose(np.asarray(ri.bev_corners(a)), want, atol=1e-5)


def test_matches_shapely_on_500_pairs():
    a, b, kinds = _pairs(500)
    inter, bev, iou3d = _reference(a, b)
    quad_a, quad_b = np.asarray(ri.bev_corners(a)), np.asarray(ri.bev_corners(b))
    got_inter = np.asarray(ri.paired_bev_intersection(quad_a, quad_b))
    got_bev = np.asarray(ri.paired_iou_bev(a, b))
    got_3d = np.asarray(ri.paired_iou_3d(a, b))
    for name, got in (("inter", got_inter), ("bev", got_bev), ("3d", got_3d)):
        assert np.all(np.isfinite(got)), name
    kinds = np.array(kinds)
    # every kind has both overlapping and (for the random kind) a spread of values
    assert 0.05 < np.mean(bev[kinds == "random"] > 0) < 0.95
    np.testing.assert_allclose(got_bev, bev, atol=1e-5, rtol=0)
    np.testing.assert_allclose(got_3d, iou3d, atol=1e-5, rtol=0)
    # the quad intersection alone, against shapely on the very float32 quads it was given (absolute
    # corners 70 m out carry ~4e-6 m of rounding; the IoU functions avoid that by centring on box a)
    quad_inter = np.array(
        [
            Polygon(p.astype(np.float64)).intersection(Polygon(q.astype(np.float64))).area
            for p, q in zip(quad_a, quad_b, strict=True)
        ]
    )
    area = np.minimum(a[:, 4] * a[:, 5], b[:, 4] * b[:, 5])
    np.testing.assert_allclose(got_inter / area, quad_inter / area, atol=1e-5, rtol=0)
    np.testing.assert_allclose(got_inter / area, inter / area, atol=1e-4, rtol=0)
    np.testing.assert_allclose(got_bev[kinds == "identical"], 1.0, atol=1e-6)
    np.testing.assert_allclose(got_3d[kinds == "identical"], 1.0, atol=1e-6)
    assert np.all(got_bev[kinds == "disjoint"] == 0.0)
    # touching pairs made in float64 overlap by float32 rounding only (exact touching: the by-hand test)
    assert np.all(got_bev[kinds == "touching"] < 1e-5)
    np.testing.assert_allclose(got_bev[kinds == "half_shift"], 1.0 / 3.0, atol=1e-5)  # float32 shift
    contained = kinds == "contained"
    small = b[contained, 4] * b[contained, 5] / (a[contained, 4] * a[contained, 5])
    np.testing.assert_allclose(got_bev[contained], small, atol=1e-6, rtol=1e-5)


def test_square_rotations_and_corner_cases_by_hand():
    # unit square against itself turned by 45 degrees: octagon of area 2 (sqrt 2 - 1)
    a = np.array([[0.0, 1.0, 10.0, 1.0, 1.0, 1.0, 0.3]] * 3, np.float32)
    b = a.copy()
    b[0, 6] += np.pi / 4
    b[1, 6] += np.pi / 2  # the same square
    b[2, 0] += 0.5  # half overlap with parallel edges (not along the heading: ry = 0.3)
    inter = np.asarray(ri.paired_bev_intersection(ri.bev_corners(a), ri.bev_corners(b)))
    want_oct = 2 * (np.sqrt(2) - 1)
    np.testing.assert_allclose(inter[:2], [want_oct, 1.0], atol=1e-5)
    np.testing.assert_allclose(inter[2], _polygon(a[2]).intersection(_polygon(b[2])).area, atol=1e-5)
    # exactly touching (representable coordinates): along the length, the width, and at one corner
    c = np.array([[0.0, 1.0, 10.0, 1.5, 1.0, 2.0, 0.0]] * 3, np.float32)
    d = c.copy()
    d[0, 0] += 2.0
    d[1, 2] += 1.0
    d[2, [0, 2]] += [2.0, 1.0]
    np.testing.assert_allclose(np.asarray(ri.paired_iou_bev(c, d)), 0.0, atol=1e-7)
    np.testing.assert_allclose(np.asarray(ri.paired_iou_3d(c, d)), 0.0, atol=1e-7)
    # the polygon: 8 valid vertices for the octagon, sorted so the shoelace area is positive
    points, valid = ri.intersection_polygon(ri.bev_corners(a[:1]), ri.bev_corners(b[:1]))
    valid = np.asarray(valid)[0]
    assert valid[:8].all() and not valid[8:].any()


def test_degenerate_boxes_give_zero():
    good = np.array([2.0, 1.5, 15.0, 1.5, 1.6, 3.9, 0.2], np.float32)
    bad = np.tile(good, (6, 1))
    bad[0, 4] = 0.0  # w = 0
    bad[1, 5] = 0.0  # l = 0
    bad[2, 3] = 0.0  # h = 0
    bad[3, 4] = -1.6  # negative width
    bad[4, 3:6] = 0.0  # a point
    bad[5, 5] = -3.9
    a = np.tile(good, (6, 1))
    for x, y in ((a, bad), (bad, a), (bad, bad)):
        bev, iou3d = np.asarray(ri.paired_iou_bev(x, y)), np.asarray(ri.paired_iou_3d(x, y))
        assert np.all(np.isfinite(bev)) and np.all(np.isfinite(iou3d))
        np.testing.assert_array_equal(iou3d, 0.0)
        np.testing.assert_array_equal(bev, 0.0)  # h = 0 too: a degenerate box has no IoU at all
    np.testing.assert_allclose(np.asarray(ri.paired_iou_bev(a, a)), 1.0, atol=1e-6)


def test_3d_iou_with_vertical_offset_by_hand():
    rng = np.random.default_rng(3)
    a = _random_box(rng, 50).astype(np.float32)
    b = a.copy()
    b[:, 6] += rng.uniform(-0.6, 0.6, 50)  # turned: a BEV IoU below 1, from shapely
    b[:, 0] += rng.uniform(-0.5, 0.5, 50)
    dy = rng.uniform(-3.0, 3.0, 50)
    b[:, 1] += dy
    b[:, 3] = a[:, 3] * rng.uniform(0.7, 1.3, 50)
    b = b.astype(np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    # spans [y - h, y]; overlap by hand, vertical volumes from the BEV IoU:
    overlap = np.clip(
        np.minimum(a64[:, 1], b64[:, 1]) - np.maximum(a64[:, 1] - a64[:, 3], b64[:, 1] - b64[:, 3]), 0, None
    )
    bev = np.asarray(ri.paired_iou_bev(a, b), np.float64)
    area_a, area_b = a64[:, 4] * a64[:, 5], b64[:, 4] * b64[:, 5]
    inter = bev * (area_a + area_b) / (1.0 + bev)  # IoU = I / (A + B - I)
    want = inter * overlap / (area_a * a64[:, 3] + area_b * b64[:, 3] - inter * overlap)
    np.testing.assert_allclose(np.asarray(ri.paired_iou_3d(a, b)), want, atol=1e-5)
    assert np.any(overlap == 0.0) and np.any(overlap > 0.0)
    # same footprint and height, offset dy: IoU = (h - |dy|) / (h + |dy|), the height factor alone
    c = a.copy()
    c[:, 1] += 0.25
    np.testing.assert_allclose(
        np.asarray(ri.paired_iou_3d(a, c)), (a64[:, 3] - 0.25) / (a64[:, 3] + 0.25), atol=1e-5
    )


def test_runs_under_xla_and_matches_eager():
    a, b, _ = _pairs(128, seed=5)
    fn = tf.function(lambda x, y: (ri.paired_iou_bev(x, y), ri.paired_iou_3d(x, y)), jit_compile=True)
    # batched leading axes (B, N, 7), as in a train step; XLA's fused float32 arithmetic differs from
    # eager in the last bits, so the bound is the one held against shapely
    bev, iou3d = fn(tf.constant(a.reshape(4, 32, 7)), tf.constant(b.reshape(4, 32, 7)))
    assert bev.shape == (4, 32) and iou3d.shape == (4, 32)
    np.testing.assert_allclose(bev.numpy().reshape(-1), np.asarray(ri.paired_iou_bev(a, b)), atol=1e-5)
    np.testing.assert_allclose(iou3d.numpy().reshape(-1), np.asarray(ri.paired_iou_3d(a, b)), atol=1e-5)
    _, want_bev, want_3d = _reference(a, b)
    np.testing.assert_allclose(bev.numpy().reshape(-1), want_bev, atol=1e-5)
    np.testing.assert_allclose(iou3d.numpy().reshape(-1), want_3d, atol=1e-5)


_JAX_SCRIPT = """
import sys
import jax
import numpy as np
from official.ops import rotated_iou as ri
import keras
assert keras.backend.backend() == "jax"
with np.load(sys.argv[1]) as f:
    a, b = f["a"], f["b"]
fn = jax.jit(lambda x, y: (ri.paired_iou_bev(x, y), ri.paired_iou_3d(x, y)))
bev, iou3d = fn(a, b)
np.savez(sys.argv[2], bev=np.asarray(bev), iou3d=np.asarray(iou3d))
assert "tensorflow" not in sys.modules, "rotated_iou imported tensorflow under the jax backend"
"""


@pytest.mark.jax
def test_jax_backend_matches_tf(tmp_path):
    import jax  # noqa: F401  required (pyproject extra "jax"): a missing install fails, never skips

    a, b, _ = _pairs(200, seed=7)
    got = helpers.run_jax_script(_JAX_SCRIPT, tmp_path, a=a, b=b)
    # float32 rounding differs between the backends' kernels: held to the shapely bound
    np.testing.assert_allclose(got["bev"], np.asarray(ri.paired_iou_bev(a, b)), atol=1e-5)
    np.testing.assert_allclose(got["iou3d"], np.asarray(ri.paired_iou_3d(a, b)), atol=1e-5)
    _, want_bev, want_3d = _reference(a, b)
    np.testing.assert_allclose(got["iou3d"], want_3d, atol=1e-5)
    assert np.all(np.isfinite(got["bev"])) and np.max(np.abs(got["bev"] - want_bev)) < 1e-5

"""RTM3D targets and loss agree: an oracle that writes the targets back into the head maps has zero
regression losses, its keypoints solve (GRM) to the true location, and its 3D-confidence target is 1.

Independent references: keypoints from official/data/kitti_geometry.py (numpy), the multi-bin decode
of official/ops/box3d.py, and hand-computed cells.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from official.data import kitti_geometry
from official.data.mono3d_targets import encode_targets, multibin_targets
from official.ops import box3d
from official.vision.rtm3d import losses

SIZE = (96, 320)  # input (H, W); output 24 x 80
P2 = np.array([[180.0, 0.0, 160.0, 11.2], [0.0, 180.0, 43.0, 0.05], [0.0, 0.0, 1.0, 0.0027]], np.float32)
OBJECTS = [  # class, (h, w, l), (x, y, z), rotation_y
    (0, (1.5, 1.6, 3.9), (-2.0, 1.65, 14.0), 0.4),
    (1, (1.75, 0.6, 0.8), (3.0, 1.65, 10.0), -2.2),
    (2, (1.7, 0.6, 1.8), (0.5, 1.65, 20.0), 3.0),
]


def _frame(max_objects: int = 8) -> dict:
    m = max_objects
    frame = {k: np.zeros(s, np.float32) for k, s in (("gt_boxes2d", (m, 4)), ("gt_dimensions", (m, 3)),
                                                     ("gt_locations", (m, 3)), ("gt_rotation_y", (m,)), ("gt_alpha", (m,)))}
    frame["gt_classes"] = np.full((m,), -1, np.int32)
    frame["gt_valid"] = np.zeros((m,), bool)
    for i, (c, dims, loc, ry) in enumerate(OBJECTS):
        frame["gt_classes"][i], frame["gt_valid"][i] = c, True
        frame["gt_dimensions"][i], frame["gt_locations"][i], frame["gt_rotation_y"][i] = dims, loc, ry
        frame["gt_boxes2d"][i] = kitti_geometry.box2d_from_3d(dims, loc, ry, P2, SIZE)
        frame["gt_alpha"][i] = kitti_geometry.alpha_from_rotation_y(ry, loc[0], loc[2])
    frame["P2"] = P2
    return {k: tf.constant(v) for k, v in frame.items()}


def _oracle(y: dict, num_classes: int = 3) -> dict:
    """Head maps holding the targets at the target cells (logits +-9 for the heatmaps)."""
    out_h, out_w = SIZE[0] // 4, SIZE[1] // 4
    maps = {}
    for name, ch in (("hps", 18), ("reg", 2), ("wh", 2), ("dim", 3), ("rot", 8), ("prob", 1)):
        maps[name] = np.zeros((1, out_h * out_w, ch), np.float32)
    maps["hp_offset"] = np.zeros((1, out_h * out_w, 2), np.float32)
    ind, mask = np.asarray(y["ind"]), np.asarray(y["rot_mask"]) > 0
    bins, res = np.asarray(y["rotbin"]), np.asarray(y["rotres"])
    for k in np.flatnonzero(mask):
        cell = ind[k]
        for name in ("hps", "reg", "wh", "dim"):
            maps[name][0, cell] = np.asarray(y[name])[k]
        rot = np.zeros(8, np.float32)
        for b in range(2):
            rot[4 * b : 4 * b + 2] = (-5.0, 5.0) if bins[k, b] else (5.0, -5.0)
            rot[4 * b + 2], rot[4 * b + 3] = math.sin(res[k, b]), math.cos(res[k, b])
        maps["rot"][0, cell] = rot
        maps["prob"][0, cell] = 9.0
    for j in np.flatnonzero(np.asarray(y["hp_mask"]) > 0):
        maps["hp_offset"][0, np.asarray(y["hp_ind"])[j]] = np.asarray(y["hp_offset"])[j]
    out = {k: tf.reshape(v, (1, out_h, out_w, -1)) for k, v in maps.items()}
    out["hm"] = tf.where(y["hm"][None] == 1.0, 9.0, -9.0)
    out["hm_hp"] = tf.where(y["hm_hp"][None] == 1.0, 9.0, -9.0)
    return out


@pytest.fixture(scope="module")
def targets():
    return encode_targets(_frame(), SIZE, num_classes=3, max_objects=8)


def test_cells_and_keypoints_match_numpy(targets):
    y = {k: np.asarray(v) for k, v in targets.items()}
    for i, (c, dims, loc, ry) in enumerate(OBJECTS):
        box = kitti_geometry.box2d_from_3d(dims, loc, ry, P2, SIZE) / 4.0
        centre = (box[:2] + box[2:]) / 2.0
        cx, cy = np.floor(centre).astype(int)
        assert y["ind"][i] == cy * (SIZE[1] // 4) + cx
        assert y["hm"][cy, cx, c] == 1.0
        np.testing.assert_allclose(y["reg"][i], centre - np.floor(centre), atol=1e-5)
        kps = kitti_geometry.box_keypoints_2d(dims, loc, ry, P2) / 4.0
        np.testing.assert_allclose(y["hps"][i].reshape(9, 2), kps - [cx, cy], atol=1e-3)
        np.testing.assert_allclose(y["dim"][i], dims, atol=1e-6)
    assert y["rot_mask"][3:].sum() == 0 and y["hps_mask"][3:].sum() == 0


def test_multibin_targets_round_trip_through_decode():
    alpha = np.linspace(-math.pi + 1e-3, math.pi, 721).astype(np.float32)
    bins, res = (np.asarray(t) for t in multibin_targets(tf.constant(alpha)))
    keras_bins, keras_res = (np.asarray(t) for t in box3d.multibin_encode(alpha))
    np.testing.assert_array_equal(bins, keras_bins)
    np.testing.assert_allclose(res, keras_res, atol=1e-6)
    rot = np.zeros((alpha.size, 8), np.float32)
    use1 = bins[:, 0] > 0  # decode picks bin 1 when its logit wins
    rot[:, 1] = np.where(use1, 5.0, -5.0)
    rot[:, 5] = np.where(use1, -5.0, 5.0)
    rot[:, 2], rot[:, 3] = np.sin(res[:, 0]), np.cos(res[:, 0])
    rot[:, 6], rot[:, 7] = np.sin(res[:, 1]), np.cos(res[:, 1])
    decoded = np.asarray(box3d.multibin_decode(rot, mode="atan2"))
    err = np.abs((decoded - alpha + math.pi) % (2 * math.pi) - math.pi)
    assert err.max() < 1e-5
    # KM3D's atan(sin / cos) is right wherever the residual's cosine is positive, else off by pi.
    km3d = np.asarray(box3d.multibin_decode(rot, mode="km3d"))
    err = np.abs((km3d - alpha + math.pi) % (2 * math.pi) - math.pi)
    chosen = np.where(use1, res[:, 0], res[:, 1])
    assert err[np.cos(chosen) > 1e-3].max() < 1e-5 and np.all(np.abs(err[np.cos(chosen) < -1e-3] - math.pi) < 1e-4)


def test_oracle_has_zero_regression_loss_and_exact_location(targets):
    y = {k: v[None] for k, v in targets.items()}
    # Keypoints of one object can share an output cell; the oracle holds one offset per cell, so those
    # rows leave the keypoint-offset term (and only those).
    hp_ind, hp_mask = np.asarray(targets["hp_ind"]), np.asarray(targets["hp_mask"]).copy()
    cells, counts = np.unique(hp_ind[hp_mask > 0], return_counts=True)
    hp_mask[np.isin(hp_ind, cells[counts > 1])] = 0.0
    assert hp_mask.sum() >= 15
    y["hp_mask"] = tf.constant(hp_mask)[None]
    pred = _oracle(targets)
    total, terms = losses.total_loss(pred, y, stride=4, step=10**6, rampup_steps=100)
    for name in ("hp_loss", "hp_offset_loss", "off_loss", "wh_loss", "dim_loss"):
        assert float(terms[name]) < 1e-5, name
    assert float(terms["coor_loss"]) < 0.02  # GRM on exact keypoints: centimetres (/(n + 1))
    # BCE(logit 9, IoU target): 9 (1 - IoU) per object; IoU of the solved boxes is 0.97-0.99 here.
    assert 0.0 < float(terms["prob_loss"]) < 0.3
    # BinRotLoss averages the bin cross-entropy over ALL 8 slots, padding included (logits masked to
    # 0: ln 2 each), so the oracle's floor is 2 bins x 5/8 x ln 2.
    assert abs(float(terms["rot_loss"]) - 2 * 5 / 8 * math.log(2)) < 0.02
    # A wrong depth in the keypoints moves the solved location: the loss sees it.
    bad = dict(pred)
    bad["hps"] = pred["hps"] * 1.1
    _, bad_terms = losses.total_loss(bad, y, stride=4, step=10**6, rampup_steps=100)
    assert float(bad_terms["coor_loss"]) > 0.3
    assert float(bad_terms["prob_loss"]) > float(terms["prob_loss"]) + 1.0  # the IoU target falls

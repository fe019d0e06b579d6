"""The KITTI evaluator (official/evaluation/kitti) on hand-made cases with known AP, and its IoUs vs shapely.

The devkit's curves have at most one point per true positive, so a perfect result reaches 100 only with
more than 40 valid ground-truth objects: the base case has 41 frames of one Car, Pedestrian and Cyclist.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest
from shapely.geometry import Polygon

from official.data.kitti_format import KittiFormatError, KittiObject, write_label_file
from official.data.kitti_geometry import bev_corners
from official.evaluation.kitti import evaluate_kitti, evaluate_kitti_objects
from official.evaluation.kitti.kitti_ap import average_precision, get_thresholds
from official.evaluation.kitti.rotated_iou import bev_iou, image_iou, iou_3d

N = 41


def _obj(kind, box, loc, dims, ry=0.0, score=None, alpha=None, trunc=0.0, occ=0) -> KittiObject:
    alpha = ry - math.atan2(loc[0], loc[2]) if alpha is None else alpha
    return KittiObject(kind, trunc, occ, alpha, tuple(map(float, box)), tuple(map(float, dims)),
                       tuple(map(float, loc)), float(ry), score)  # fmt: skip


def _scene() -> list[KittiObject]:
    return [
        _obj("Car", (100, 100, 200, 160), (0.0, 1.6, 10.0), (1.5, 1.6, 3.9), ry=0.3),
        _obj("Pedestrian", (400, 100, 430, 170), (5.0, 1.6, 12.0), (1.75, 0.6, 0.8), ry=-1.0),
        _obj("Cyclist", (700, 100, 740, 160), (-5.0, 1.6, 15.0), (1.7, 0.6, 1.8), ry=2.0),
    ]


def _perfect():
    gt = [_scene() for _ in range(N)]
    preds = [[dataclasses.replace(o, score=0.5 + 0.01 * i) for o in frame] for i, frame in enumerate(gt)]
    return gt, preds


def _ap(results, cls="Car", metric="2d", level="easy"):
    return results[cls][metric][level]


@pytest.mark.parametrize("recall_points", [40, 11])
@pytest.mark.parametrize("iou_setting", ["0.7", "0.5"])
def test_perfect_prediction_is_100_everywhere(recall_points, iou_setting):
    gt, preds = _perfect()
    results = evaluate_kitti_objects(gt, preds, recall_points=recall_points, iou_setting=iou_setting)
    assert list(results) == ["Car", "Pedestrian", "Cyclist"]
    for metrics in results.values():
        assert list(metrics) == ["2d", "bev", "3d", "aos"]
        for values in metrics.values():
            assert values == pytest.approx({"easy": 100.0, "moderate": 100.0, "hard": 100.0})


def test_orientation_error_halves_aos_only():
    gt, preds = _perfect()
    preds = [[dataclasses.replace(o, alpha=o.alpha + math.pi / 2) for o in frame] for frame in preds]
    results = evaluate_kitti_objects(gt, preds)
    assert _ap(results, metric="2d") == pytest.approx(100.0)
    assert _ap(results, metric="aos") == pytest.approx(50.0)  # (1 + cos(pi/2)) / 2


def test_car_shifted_by_its_width_fails_bev_and_3d():
    gt, preds = _perfect()
    shifted = []
    for frame in preds:
        car = frame[0]  # ry 0.3: shift across the box, along its rotated width axis
        dx, dz = car.dimensions[1] * math.sin(0.3), car.dimensions[1] * math.cos(0.3)
        loc = (car.location[0] + dx, car.location[1], car.location[2] + dz)
        shifted.append([dataclasses.replace(car, location=loc), *frame[1:]])
    assert bev_iou(np.array([[*shifted[0][0].location, *shifted[0][0].dimensions, 0.3]]),
                   np.array([[*gt[0][0].location, *gt[0][0].dimensions, 0.3]]))[0, 0] == pytest.approx(0.0, abs=1e-9)  # fmt: skip
    results = evaluate_kitti_objects(gt, shifted)
    for level in ("easy", "moderate", "hard"):
        assert _ap(results, "Car", "bev", level) == 0.0
        assert _ap(results, "Car", "3d", level) == 0.0
        assert _ap(results, "Car", "2d", level) == pytest.approx(100.0)  # the image box did not move
        assert _ap(results, "Pedestrian", "3d", level) == pytest.approx(100.0)


def _with_false_positive(box, dontcare=None):
    gt, preds = _perfect()
    if dontcare is not None:
        gt[0] = [*gt[0], _obj("DontCare", dontcare, (-1000, -1000, -1000), (-1, -1, -1), ry=-10, alpha=-10, trunc=-1, occ=-1)]
    preds[0] = [*preds[0], _obj("Car", box, (20.0, 1.6, 40.0), (1.5, 1.6, 3.9), score=0.99)]
    return evaluate_kitti_objects(gt, preds, classes=("Car",))


def test_false_positive_in_dontcare_region_is_ignored():
    # Inside a large DontCare region: IoU with it is small, but intersection / detection area is 1.
    inside = _with_false_positive((510, 60, 590, 140), dontcare=(400, 0, 900, 300))
    elsewhere = _with_false_positive((1000, 60, 1080, 140), dontcare=(400, 0, 900, 300))
    for level in ("easy", "moderate", "hard"):
        assert _ap(inside, "Car", "2d", level) == pytest.approx(100.0)
        assert _ap(elsewhere, "Car", "2d", level) < 99.0
        # bev / 3d test the DontCare's placeholder 3D box (x = z = -1000): the FP counts there.
        assert _ap(inside, "Car", "3d", level) == pytest.approx(_ap(elsewhere, "Car", "3d", level))


def test_detection_below_min_height_is_ignored():
    # 30 px: below easy's 40 (ignored there), above moderate / hard's 25 (a false positive there).
    results = _with_false_positive((1000, 60, 1080, 90))
    assert _ap(results, "Car", "2d", "easy") == pytest.approx(100.0)
    assert _ap(results, "Car", "3d", "easy") == pytest.approx(100.0)
    assert _ap(results, "Car", "2d", "moderate") < 99.0
    # The devkit truncates a detection's height to an integer: 39.9 px is below 40.
    assert _ap(_with_false_positive((1000, 60, 1080, 99.9)), "Car", "2d", "easy") == pytest.approx(100.0)


def test_neighbouring_class_is_ignored_other_classes_are_not():
    gt, preds = _perfect()
    preds[0] = [*preds[0], _obj("Car", (900, 60, 1000, 140), (20.0, 1.6, 40.0), (2.2, 1.9, 5.0), score=0.99)]
    for kind, expect_full in (("Van", True), ("Truck", False)):
        gt_k = [list(f) for f in gt]
        gt_k[0].append(_obj(kind, (900, 60, 1000, 140), (20.0, 1.6, 40.0), (2.2, 1.9, 5.0)))
        ap = _ap(evaluate_kitti_objects(gt_k, preds, classes=("Car",)), "Car", "3d", "moderate")
        assert (ap == pytest.approx(100.0)) is expect_full


def test_r40_and_r11_of_a_known_curve():
    """41 Cars; TPs on the first 20 (scores .99 .. .80), 10 FPs scored between the 10th and 11th TP.
    The devkit's thresholds are the 20 TP scores; precision there: 1 (i < 10), (i + 1) / (i + 11) after,
    whose running max is 20 / 30; entries 20..40 are 0.
    R40 = (9 * 1 + 10 * 2/3) / 40;  R11 = entries 0, 4, 8 (1) and 12, 16 (2/3): (3 + 4/3) / 11."""
    car = _scene()[0]
    gt = [[car] for _ in range(N)]
    preds = [[dataclasses.replace(car, score=0.99 - 0.01 * i)] if i < 20 else [] for i in range(N)]
    for k in range(10):
        preds[20 + k] = [_obj("Car", (900, 60, 1000, 140), (20.0, 1.6, 40.0), (1.5, 1.6, 3.9), score=0.895 - 1e-4 * k)]
    r40 = evaluate_kitti_objects(gt, preds, classes=("Car",), recall_points=40)
    r11 = evaluate_kitti_objects(gt, preds, classes=("Car",), recall_points=11)
    for metric in ("2d", "bev", "3d", "aos"):
        assert _ap(r40, "Car", metric) == pytest.approx((9 + 10 * 2 / 3) / 40 * 100)
        assert _ap(r11, "Car", metric) == pytest.approx((3 + 4 / 3) / 11 * 100)


def test_average_precision_and_thresholds():
    curve = np.where(np.arange(41) <= 20, 1.0, 0.0)
    assert average_precision(curve, 40) == pytest.approx(50.0)  # entries 1..20 of 1..40
    assert average_precision(curve, 11) == pytest.approx(6 / 11 * 100)  # entries 0, 4, .., 20
    assert average_precision(np.ones(41), 40) == average_precision(np.ones(41), 11) == pytest.approx(100.0)
    scores = np.linspace(1, 0.01, 80)
    thresholds = get_thresholds(scores, 80)
    assert len(thresholds) == 41 and thresholds[-1] == scores[-1] and thresholds[0] == scores[0]
    assert len(get_thresholds(scores[:3], 80)) == 3  # one point per true positive at most


def _random_boxes(rng, n):
    return np.stack([rng.uniform(-3, 3, n), rng.uniform(1, 2, n), rng.uniform(-3, 3, n), rng.uniform(0.5, 3, n),
                     rng.uniform(0.3, 3, n), rng.uniform(0.3, 5, n), rng.uniform(-4, 4, n)], 1)  # fmt: skip


def test_rotated_iou_matches_shapely():
    boxes = _random_boxes(np.random.default_rng(0), 200)
    polys = [Polygon(c) for c in bev_corners(boxes[:, 0:3], boxes[:, 3:6], boxes[:, 6])]
    a, b = slice(0, 100), slice(100, 200)
    inter = np.array([[polys[i].intersection(polys[j]).area for j in range(100, 200)] for i in range(100)])
    union = np.array([[polys[i].union(polys[j]).area for j in range(100, 200)] for i in range(100)])
    assert 0.2 < (inter > 0).mean() < 0.8  # both overlapping and disjoint pairs
    np.testing.assert_allclose(bev_iou(boxes[a], boxes[b]), inter / union, atol=1e-6)
    det_area = np.array([p.area for p in polys[:100]])[:, None]
    np.testing.assert_allclose(bev_iou(boxes[a], boxes[b], "detection"), inter / det_area, atol=1e-6)
    y_a, h_a, y_b, h_b = boxes[a, 1:2], boxes[a, 3:4], boxes[b, 1][None], boxes[b, 3][None]
    height = np.maximum(0, np.minimum(y_a, y_b) - np.maximum(y_a - h_a, y_b - h_b))
    vol = inter * height
    vol_a, vol_b = np.prod(boxes[a, 3:6], 1)[:, None], np.prod(boxes[b, 3:6], 1)[None]
    np.testing.assert_allclose(iou_3d(boxes[a], boxes[b]), vol / (vol_a + vol_b - vol), atol=1e-6)


def test_iou_edge_cases():
    box = np.array([[1.0, 1.6, 10.0, 1.5, 1.6, 3.9, 0.7]])
    assert bev_iou(box, box)[0, 0] == pytest.approx(1.0) and iou_3d(box, box)[0, 0] == pytest.approx(1.0)
    far = box + [[10.0, 0, 0, 0, 0, 0, 0]]
    assert bev_iou(box, far)[0, 0] == 0.0 and iou_3d(box, far)[0, 0] == 0.0
    # y points down, location is the bottom centre: a spans y in [0, 2], b in [0.5, 1] -> 0.5 m shared.
    a = np.array([[0.0, 2.0, 0.0, 2.0, 1.0, 1.0, 0.0]])
    b = np.array([[0.0, 1.0, 0.0, 0.5, 1.0, 1.0, 0.0]])
    assert iou_3d(a, b)[0, 0] == pytest.approx(0.5 / 2.0)
    assert image_iou([[0, 0, 10, 10]], [[5, 0, 15, 10]])[0, 0] == pytest.approx(50 / 150)
    assert image_iou([[0, 0, 10, 10]], [[5, 0, 15, 10]], "detection")[0, 0] == pytest.approx(0.5)
    assert image_iou([[0, 0, 10, 10]], [[10, 0, 20, 10]])[0, 0] == 0.0  # touching


def test_folders_missing_prediction_file_and_malformed_line(tmp_path):
    gt, preds = _perfect()
    gt_dir, pred_dir = tmp_path / "label_2", tmp_path / "data"
    gt_dir.mkdir(), pred_dir.mkdir()
    for i, (g, p) in enumerate(zip(gt, preds, strict=True)):
        write_label_file(str(gt_dir / f"{i:06d}.txt"), g)
        if i != 3:
            write_label_file(str(pred_dir / f"{i:06d}.txt"), p)
    preds[3] = []
    expected = evaluate_kitti_objects(gt, preds)
    assert evaluate_kitti(str(gt_dir), str(pred_dir)) == expected
    assert _ap(expected) < 100.0
    kept = [i for i in range(N) if i != 3]
    split = [f"{i:06d}" for i in kept]
    in_split = evaluate_kitti(str(gt_dir), str(pred_dir), split_ids=split)
    assert in_split == evaluate_kitti_objects([gt[i] for i in kept], [preds[i] for i in kept])
    assert _ap(in_split) == pytest.approx(97.5)  # 40 Cars, all found: 40 of the 41 curve points
    bad = pred_dir / "000005.txt"
    lines = bad.read_text().splitlines()
    lines[1] = lines[1].replace(lines[1].split()[12], "1.2.3")
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(KittiFormatError, match=rf"{os.sep}000005\.txt:2: field 'y'"):
        evaluate_kitti(str(gt_dir), str(pred_dir))


def test_bad_options():
    gt, preds = _perfect()
    with pytest.raises(ValueError, match="recall_points"):
        evaluate_kitti_objects(gt, preds, recall_points=41)
    with pytest.raises(ValueError, match="iou_setting"):
        evaluate_kitti_objects(gt, preds, iou_setting="0.6")
    with pytest.raises(ValueError, match="no score"):
        evaluate_kitti_objects(gt, gt)


def test_devkit_skips_aos_and_placeholder_metrics():
    gt, preds = _perfect()
    preds[0] = [dataclasses.replace(preds[0][0], alpha=-10.0), *preds[0][1:]]  # one invalid orientation
    results = evaluate_kitti_objects(gt, preds)
    assert all(v is None for m in results.values() for v in m["aos"].values())
    assert _ap(results, "Pedestrian", "3d") == pytest.approx(100.0)
    # Car results with only 2D boxes (location -1000): 2d evaluated, bev and 3d not.
    flat = [[dataclasses.replace(o, location=(-1000.0, -1000.0, -1000.0)) if o.type == "Car" else o for o in f]
            for f in preds]  # fmt: skip
    results = evaluate_kitti_objects(gt, flat)
    assert _ap(results, "Car", "2d") == pytest.approx(100.0)
    assert results["Car"]["bev"]["easy"] is None and results["Car"]["3d"]["hard"] is None


def test_protocol_constants_are_the_devkits():
    """official/evaluation/kitti/protocol.py holds evaluate_object.cpp's difficulty limits and overlaps."""
    from official.evaluation.kitti import protocol

    assert protocol.MIN_HEIGHT == (40, 25, 25) and protocol.MAX_OCCLUSION == (0, 1, 2)
    assert protocol.MAX_TRUNCATION == (0.15, 0.3, 0.5) and protocol.N_SAMPLE_PTS == 41
    assert protocol.IOU_SETTINGS["0.7"]["3d"] == {"Car": 0.7, "Pedestrian": 0.5, "Cyclist": 0.5}
    assert protocol.IOU_SETTINGS["0.5"]["3d"] == {"Car": 0.5, "Pedestrian": 0.25, "Cyclist": 0.25}
    assert protocol.IOU_SETTINGS["0.5"]["2d"] == protocol.IOU_SETTINGS["0.7"]["2d"]

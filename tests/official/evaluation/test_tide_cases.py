"""TIDE on hand-built cases: perfect predictions, the spec's toy case, error boundaries, crowd regions,
and the spec's 3-image COCO fixture with one error of each kind, each checked against tidecv 1.0.1
and against values derived by hand from the paper's definitions.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest
import tidecv  # required (pyproject extra "dev"): a missing install fails, never skips
from pycocotools import mask as mask_utils

from official.evaluation.tide import TIDE, Data, tide_breakdown
from official.evaluation.tide.synthetic import random_case

MAIN = ["Cls", "Loc", "Both", "Dupe", "Bkg", "Miss"]


@pytest.fixture(autouse=True)
def _tidecv_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TIDE_PATH", str(tmp_path / "tidecv_home"))  # tidecv's Plotter creates this folder


def both(gt_ops, pred_ops, mode="bbox"):
    """Evaluates the same calls with ours and tidecv; returns (our run, reference run, ours, ref TIDE)."""
    out = []
    for tide_cls, data_cls in ((TIDE, Data), (tidecv.TIDE, tidecv.Data)):
        gt, preds = data_cls("gt"), data_cls("preds")
        for kind, *args in gt_ops:
            (gt.add_ground_truth if kind == "gt" else gt.add_ignore_region)(*args)
        for args in pred_ops:
            preds.add_detection(*args)
        tide = tide_cls(mode=mode)
        with contextlib.redirect_stdout(io.StringIO()):
            run = tide.evaluate(gt, preds, mode=mode)
        out.append((run, tide))
    return out[0][0], out[1][0], out[0][1], out[1][1]


def figures(ours_tide, ref_tide, name="preds"):
    ours = ours_tide.get_main_errors()[name] | ours_tide.get_special_errors()[name]
    ref = ref_tide.get_main_errors()[name] | ref_tide.get_special_errors()[name]
    return ours, ref


def ref_counts(run):
    return {k.short_name: len(v) for k, v in run.error_dict.items()}


@pytest.mark.parametrize("mode", ["bbox", "mask"])
def test_perfect_predictions_score_100_with_no_error(mode):
    case = random_case(3, mode)
    gt_ops = [op for op in case.gt_ops if op[0] == "gt"]
    pred_ops = [(img, cls, 1.0, box, mask) for _, img, cls, box, mask in gt_ops]
    ours, ref, ot, rt = both(gt_ops, pred_ops, mode)
    assert ours.ap == pytest.approx(100.0, abs=1e-12) and ref.ap == pytest.approx(100.0, abs=1e-12)
    o, r = figures(ot, rt)
    assert all(v == 0 for v in o.values()) and all(v == 0 for v in r.values())
    assert ours.count_errors() == ref_counts(ref) == dict.fromkeys(MAIN, 0)


def test_spec_toy_case():
    # GT: class-1 box A, class-2 box B. Predictions: A/1/0.9 (TP), shifted A/1/0.8 (Dupe), B/1/0.7 (Cls),
    # far box/2/0.6 (Bkg), B shifted (IoU 0.37)/2/0.5 (Loc, but B's best fix is the 0.7 Cls error).
    gt = [("gt", 1, 1, [0, 0, 100, 100]), ("gt", 1, 2, [200, 200, 100, 100])]
    preds = [(1, 1, 0.9, [0, 0, 100, 100]), (1, 1, 0.8, [5, 5, 100, 100]), (1, 1, 0.7, [200, 200, 100, 100]),
             (1, 2, 0.6, [500, 500, 50, 50]), (1, 2, 0.5, [210, 240, 100, 100])]
    ours, ref, ot, rt = both(gt, preds)
    assert ours.ap == pytest.approx(50.0, abs=1e-9) and ref.ap == pytest.approx(50.0, abs=1e-9)
    o, r = figures(ot, rt)
    expected = {"Cls": 50.0, "Loc": 0.0, "Both": 0.0, "Dupe": 0.0, "Bkg": 0.0, "Miss": 0.0}
    for k, v in expected.items():
        assert o[k] == pytest.approx(v, abs=1e-9) and r[k] == pytest.approx(v, abs=1e-9)
    for k in ("FalsePos", "FalseNeg"):
        assert o[k] == pytest.approx(r[k], abs=1e-9)
    assert ours.count_errors() == ref_counts(ref) == {"Cls": 1, "Loc": 1, "Both": 0, "Dupe": 1, "Bkg": 1, "Miss": 0}


@pytest.mark.parametrize("second_box,expected", [
    ([0, 0, 50, 100], "Loc"),   # IoU exactly 0.5 with the matched GT: Loc (upper bound inclusive), not Dupe
    ([0, 0, 45, 100], "Loc"),   # IoU 0.45
    ([0, 0, 60, 100], "Dupe"),  # IoU 0.6
])
def test_second_prediction_on_matched_gt(second_box, expected):
    gt = [("gt", 1, 1, [0, 0, 100, 100])]
    preds = [(1, 1, 0.9, [0, 0, 100, 100]), (1, 1, 0.8, second_box)]
    ours, ref, _, _ = both(gt, preds)
    want = dict.fromkeys(MAIN, 0) | {expected: 1}
    assert ours.count_errors() == ref_counts(ref) == want


def test_lone_prediction_boundaries():
    # Same class, IoU exactly 0.1 with an unmatched GT: Loc (lower bound inclusive) and the GT is not missed.
    ours, ref, _, _ = both([("gt", 1, 1, [0, 0, 100, 100])], [(1, 1, 0.9, [0, 0, 10, 100])])
    assert ours.count_errors() == ref_counts(ref) == dict.fromkeys(MAIN, 0) | {"Loc": 1}
    # Other class, IoU exactly 0.1 and no same-class overlap: Bkg (IoU <= background threshold); GT missed.
    ours, ref, _, _ = both([("gt", 1, 1, [0, 0, 100, 100])], [(1, 2, 0.9, [0, 0, 10, 100])])
    assert ours.count_errors() == ref_counts(ref) == dict.fromkeys(MAIN, 0) | {"Bkg": 1, "Miss": 1}
    # IoU exactly 0.5 with an unmatched GT is a true positive (>= pos_threshold).
    ours, ref, _, _ = both([("gt", 1, 1, [0, 0, 100, 100])], [(1, 1, 0.9, [0, 0, 50, 100])])
    assert ours.ap == ref.ap == pytest.approx(100.0)


def test_crowd_region_hides_false_positives():
    gt = [("gt", 1, 1, [0, 0, 50, 50]), ("ignore", 1, 1, [100, 100, 100, 100])]
    preds = [(1, 1, 0.9, [0, 0, 50, 50]), (1, 1, 0.8, [120, 120, 40, 40]), (1, 1, 0.7, [300, 300, 40, 40])]
    ours, ref, ot, rt = both(gt, preds)
    # Without the crowd prediction: TP, FP -> precision 1 at recall 1 -> AP 100.
    assert ours.ap == pytest.approx(100.0) and ref.ap == pytest.approx(100.0)
    assert ours.counts()["Ignored"] == 1 and ours.counts()["FalsePos"] == 1
    o, r = figures(ot, rt)
    for k in o:
        assert o[k] == pytest.approx(r[k], abs=1e-9)


def _rect_poly(x, y, w, h):
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def _fixture(tmp_path, mode):
    """Spec fixture: 3 images, 2 categories, 5 boxes, 1 crowd, 1 (non-rectangular) polygon mask."""
    boxes = [(1, 1, [10, 10, 50, 50]), (1, 2, [100, 100, 60, 60]), (2, 1, [20, 20, 80, 80]),
             (2, 2, [150, 150, 40, 40]), (3, 2, [50, 50, 100, 100])]
    anns = [{"id": i + 1, "image_id": img, "category_id": c, "bbox": b, "area": b[2] * b[3], "iscrowd": 0,
             "segmentation": _rect_poly(*b)} for i, (img, c, b) in enumerate(boxes)]
    anns[2]["segmentation"] = [[20, 60, 60, 20, 100, 60, 60, 100]]  # a diamond inside box C
    anns.append({"id": 6, "image_id": 2, "category_id": 1, "bbox": [0, 120, 200, 80], "area": 16000, "iscrowd": 1,
                 "segmentation": _rect_poly(0, 120, 200, 80)})
    gt = {"images": [{"id": i, "file_name": f"{i}.jpg", "width": 200, "height": 200} for i in (1, 2, 3)],
          "annotations": anns, "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]}
    dets = [
        (1, 1, 0.95, [10, 10, 50, 50]),   # TP on A
        (1, 1, 0.90, [12, 12, 50, 50]),   # Dupe of A (IoU 0.85)
        (1, 1, 0.85, [100, 100, 60, 60]),  # Cls on B (dog)
        (3, 2, 0.80, [90, 90, 100, 100]),  # Loc on E (IoU 0.22)
        (2, 2, 0.70, [60, 20, 80, 80]),   # Both: wrong class on C, IoU 0.33
        (2, 1, 0.60, [150, 0, 40, 40]),   # Bkg
        (2, 1, 0.65, [10, 130, 50, 50]),  # inside the crowd region: ignored (classified Bkg, not a FP)
        (2, 1, 0.50, [20, 20, 80, 80]),   # TP on C; D (dog, image 2) is missed
    ]
    results = []
    for img, c, s, b in dets:
        r = {"image_id": img, "category_id": c, "score": s, "bbox": b}
        if mode == "mask":
            rle = mask_utils.merge(mask_utils.frPyObjects(_rect_poly(*b), 200, 200))
            r["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
        results.append(r)
    gt_path, pred_path = tmp_path / "gt.json", tmp_path / "pred.json"
    gt_path.write_text(json.dumps(gt))
    pred_path.write_text(json.dumps(results))
    return str(gt_path), str(pred_path)


@pytest.mark.parametrize("mode", ["bbox", "mask"])
def test_spec_fixture_one_error_of_each_kind(tmp_path, mode):
    gt_path, pred_path = _fixture(tmp_path, mode)
    ours = tide_breakdown(gt_path, pred_path, mode="box" if mode == "bbox" else "mask")
    with contextlib.redirect_stdout(io.StringIO()):
        rt = tidecv.TIDE()
        ref_run = rt.evaluate(tidecv.datasets.COCO(gt_path), tidecv.datasets.COCOResult(pred_path), mode=mode)
        ref = rt.get_main_errors()["pred"] | rt.get_special_errors()["pred"]
    assert ours["ap50"] == pytest.approx(ref_run.ap, abs=1e-6)
    for k in MAIN:
        assert ours["main"][k] == pytest.approx(ref[k], abs=1e-6)
    for k in ("FalsePos", "FalseNeg"):
        assert ours["special"][k] == pytest.approx(ref[k], abs=1e-6)
    counts = {k: ours["counts"][k] for k in MAIN}
    assert counts == ref_counts(ref_run)
    if mode == "bbox":
        assert counts == {"Cls": 1, "Loc": 1, "Both": 1, "Dupe": 1, "Bkg": 2, "Miss": 1}
        assert ours["counts"]["Ignored"] == 1 and ours["counts"]["TruePos"] == 2
        # By hand: cat (GT A, C) ranks TP .95, FP .90, FP .85, FP .60, TP .50 (the crowd-ignored .65 is out):
        # precision 1 up to recall 0.5 (51 points), then 2/5 (50 points). Dog (3 GT) has no TP: AP 0.
        assert ours["ap50"] == pytest.approx((51 + 50 * 0.4) / 101 * 100 / 2, abs=1e-9)

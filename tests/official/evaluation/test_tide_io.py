"""TIDE on COCO JSON: bad-input errors, `tide_breakdown`, the CLI, the plot, parity with tidecv's own
COCO loaders on a small COCO-like set, and closeness to pycocotools COCOeval AP50.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import subprocess
import sys

import pytest

from official.evaluation.tide import TideInputError, tide_breakdown, tide_scalars, write_tide_plot
from official.evaluation.tide.synthetic import coco_like

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MAIN = ["Cls", "Loc", "Both", "Dupe", "Bkg", "Miss"]


@pytest.fixture(scope="module")
def small():
    gt, preds = coco_like(1, n_images=60, n_classes=6, dets_per_image=15)
    return gt, preds


def _write(tmp_path, name, obj):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return str(path)


@pytest.mark.parametrize("field,value,message", [
    ("image_id", 999_999, "image_id 999999 is not in the ground truth's images"),
    ("category_id", 77, "category_id 77 is not in the ground truth's categories"),
    ("bbox", [10, 10, -5, 20], "bbox has negative size"),
    ("score", float("nan"), "score nan is not a finite number"),
    ("score", float("inf"), "score inf is not a finite number"),
    ("score", "0.5", "score '0.5' is not a finite number"),
])
def test_bad_prediction_names_file_and_index(tmp_path, small, field, value, message):
    gt, preds = small
    preds = copy.deepcopy(preds)
    preds[7][field] = value
    gt_path, pred_path = _write(tmp_path, "gt.json", gt), _write(tmp_path, "pred.json", preds)
    with pytest.raises(TideInputError) as err:
        tide_breakdown(gt_path, pred_path)
    assert pred_path in str(err.value) and "predictions[7]" in str(err.value) and message in str(err.value)


def test_missing_box_in_box_mode(small):
    gt, preds = small
    preds = copy.deepcopy(preds)
    del preds[3]["bbox"]
    with pytest.raises(TideInputError, match=r"predictions\[3\]"):
        tide_breakdown(gt, preds)


@pytest.mark.parametrize("content,message", [
    ("this is not json", "is not JSON"),
    ("[1, 2, 3]", "not a COCO instances JSON"),
    (json.dumps({"images": [], "categories": []}), "'annotations' missing"),
])
def test_ground_truth_that_is_not_coco(tmp_path, small, content, message):
    gt_path = _write(tmp_path, "gt.json", content)
    with pytest.raises(TideInputError) as err:
        tide_breakdown(gt_path, small[1])
    assert gt_path in str(err.value) and message in str(err.value)


def test_ground_truth_annotation_on_unknown_image(tmp_path, small):
    gt = copy.deepcopy(small[0])
    gt["annotations"][4]["image_id"] = -3
    with pytest.raises(TideInputError, match=r"annotations\[4\]: image_id -3 is not in 'images'"):
        tide_breakdown(_write(tmp_path, "gt.json", gt), small[1])


def test_breakdown_form_and_path_vs_object_inputs(tmp_path, small):
    gt, preds = small
    from_objects = tide_breakdown(gt, preds)
    from_paths = tide_breakdown(_write(tmp_path, "gt.json", gt), _write(tmp_path, "pred.json", preds))
    assert from_objects == from_paths
    assert set(from_objects) == {"ap50", "main", "special", "counts"}
    assert list(from_objects["main"]) == MAIN and list(from_objects["special"]) == ["FalsePos", "FalseNeg"]
    assert 0 < from_objects["ap50"] < 100
    assert all(0 <= v <= 100 for v in from_objects["main"].values())
    assert from_objects["counts"]["Predictions"] == len(preds)
    scalars = tide_scalars(from_objects)
    assert scalars["tide/AP"] == from_objects["ap50"] and scalars["tide/dAP_Miss"] == from_objects["main"]["Miss"]
    assert scalars["tide/dAP_FalseNeg"] == from_objects["special"]["FalseNeg"]
    assert scalars["tide/count_Cls"] == from_objects["counts"]["Cls"]


def test_empty_predictions_miss_everything(small):
    result = tide_breakdown(small[0], [])
    assert result["ap50"] == 0.0 and result["counts"]["Miss"] == result["counts"]["GroundTruth"] > 0


@pytest.mark.parametrize("score_map", ["as_is", "cpn_fused"])
def test_matches_tidecv_coco_loaders(tmp_path, monkeypatch, small, score_map):
    """`cpn_fused`: scores mapped into CPN's (s_c + 0.5)(s_r + 0.5) - 0.25 range [-0.25, 2] (issue 24:
    TIDE rejected scores above 1); only the ranking matters, so the breakdown must not change."""
    import tidecv  # required (pyproject extra "dev"): a missing install fails, never skips

    monkeypatch.setenv("TIDE_PATH", str(tmp_path / "tidecv_home"))
    preds = copy.deepcopy(small[1])
    if score_map == "cpn_fused":
        for p in preds:
            p["score"] = 2.25 * p["score"] - 0.25
        assert max(p["score"] for p in preds) > 1.5 and min(p["score"] for p in preds) < 0
    gt_path, pred_path = _write(tmp_path, "gt.json", small[0]), _write(tmp_path, "pred.json", preds)
    ours = tide_breakdown(gt_path, pred_path)
    if score_map == "cpn_fused":
        same = tide_breakdown(small[0], small[1])
        assert ours["main"] == pytest.approx(same["main"], abs=1e-9) and ours["ap50"] == pytest.approx(same["ap50"], abs=1e-9)
    with contextlib.redirect_stdout(io.StringIO()):
        tide = tidecv.TIDE()
        run = tide.evaluate(tidecv.datasets.COCO(gt_path), tidecv.datasets.COCOResult(pred_path), mode=tidecv.TIDE.BOX)
        ref = tide.get_main_errors()["pred"] | tide.get_special_errors()["pred"]
    assert ours["ap50"] == pytest.approx(run.ap, abs=1e-6)
    for k in MAIN:
        assert ours["main"][k] == pytest.approx(ref[k], abs=1e-6), k
        assert ours["counts"][k] == len(next(v for t, v in run.error_dict.items() if t.short_name == k)), k
    for k in ("FalsePos", "FalseNeg"):
        assert ours["special"][k] == pytest.approx(ref[k], abs=1e-6), k


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ap50_close_to_cocoeval(seed):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt, preds = coco_like(seed, n_images=80, n_classes=5, dets_per_image=20)
    ours = tide_breakdown(gt, preds)["ap50"]
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(copy.deepcopy(preds)), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ours == pytest.approx(ev.stats[1] * 100, abs=0.5)


def test_cli_writes_json_and_plot(tmp_path, small):
    gt_path, pred_path = _write(tmp_path, "gt.json", small[0]), _write(tmp_path, "pred.json", small[1])
    out_json, out_png = tmp_path / "out" / "tide.json", tmp_path / "out" / "tide.png"
    proc = subprocess.run(
        [sys.executable, "-m", "tools.tide", f"--gt={gt_path}", f"--pred={pred_path}", f"--json={out_json}",
         f"--plot={out_png}", "--range", "--areas"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Main Errors" in proc.stdout and "Special Error" in proc.stdout and "AP @ [50-95]" in proc.stdout
    result = json.loads(out_json.read_text())
    expected = tide_breakdown(gt_path, pred_path)
    for key in ("ap50", "main", "special", "counts"):
        assert result[key] == pytest.approx(expected[key]) if key != "counts" else result[key] == expected[key]
    assert set(result["ap_range"]) == {"mean", "50", "55", "60", "65", "70", "75", "80", "85", "90", "95"}
    assert result["ap_range"]["50"] == pytest.approx(result["ap50"])
    assert set(result["area"]) == {"Small", "Medium", "Large"}
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in os.listdir(tmp_path / "out") if p.startswith(".tide-")]  # no temp files left

    bad = copy.deepcopy(small[1])
    bad[2]["category_id"] = 999
    proc = subprocess.run(
        [sys.executable, "-m", "tools.tide", f"--gt={gt_path}", f"--pred={_write(tmp_path, 'bad.json', bad)}"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "predictions[2]" in proc.stderr and "bad.json" in proc.stderr


def test_plot_is_an_image_with_and_without_errors(tmp_path):
    import matplotlib.image

    result = {"ap50": 41.2, "main": dict(zip(MAIN, [3.1, 6.6, 1.2, 0.2, 4.0, 7.5], strict=True)),
              "special": {"FalsePos": 16.3, "FalseNeg": 15.6}, "counts": {}}
    for name, res in (("a.png", result), ("b.png", result | {"main": dict.fromkeys(MAIN, 0.0)})):
        write_tide_plot(res, str(tmp_path / name))
        img = matplotlib.image.imread(str(tmp_path / name))
        assert img.shape[0] > 300 and img.shape[1] > 900
        assert img[..., :3].std() > 0.05  # not a blank canvas

"""CocoEvaluator against pycocotools' COCOeval run directly, on a shapes fixture with random detections."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from official.evaluation.coco import DET_KEYS, CocoEvaluator, load_results, write_results
from tools.make_shapes import write_shapes

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SIZE = 96


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    """(GT json path, GT dict, random bbox detections, random segm detections)."""
    root = tmp_path_factory.mktemp("eval")
    json_path, _ = write_shapes(str(root), num_train=0, num_val=40, size=SIZE, seed=2)["val"]
    with open(json_path) as f:
        gt = json.load(f)
    rng = np.random.default_rng(0)
    cat_ids = [c["id"] for c in gt["categories"]]
    boxes, segms = [], []
    for a in gt["annotations"]:
        if rng.random() < 0.15:
            continue  # a miss
        x, y, w, h = a["bbox"]
        jitter = rng.normal(0, 0.06, 4) * [w, h, w, h]
        cat = a["category_id"] if rng.random() < 0.85 else int(rng.choice(cat_ids))
        boxes.append(
            {
                "image_id": a["image_id"],
                "category_id": cat,
                "score": 0.3 + 0.7 * float(rng.random()),
                "bbox": [x + jitter[0], y + jitter[1], w + jitter[2], h + jitter[3]],
            }
        )
        if not a["iscrowd"]:
            dx, dy = rng.integers(-3, 4, 2)
            poly = [[v + (dx if i % 2 == 0 else dy) for i, v in enumerate(p)] for p in a["segmentation"]]
            rle = mask_utils.merge(mask_utils.frPyObjects(poly, SIZE, SIZE))
            rle["counts"] = rle["counts"].decode()
            segms.append(
                {
                    "image_id": a["image_id"],
                    "category_id": cat,
                    "score": float(rng.random()),
                    "segmentation": rle,
                }
            )
    for img in gt["images"]:  # false positives of every size
        for _ in range(3):
            x, y = rng.uniform(0, SIZE - 10, 2)
            w, h = rng.uniform(4, SIZE - max(x, y), 2)
            boxes.append(
                {
                    "image_id": img["id"],
                    "category_id": int(rng.choice(cat_ids)),
                    "bbox": [x, y, w, h],
                    "score": float(rng.random()),
                }
            )
    return json_path, gt, boxes, segms


def reference_stats(json_path: str, results: list, iou_type: str, **params) -> np.ndarray:
    gt = COCO(json_path)
    ev = COCOeval(gt, gt.loadRes(copy.deepcopy(results)), iou_type)
    for key, value in params.items():
        setattr(ev.params, key, value)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev.stats


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_matches_pycocotools(fixture, iou_type):
    json_path, gt, boxes, segms = fixture
    results = boxes if iou_type == "bbox" else segms
    want = reference_stats(json_path, results, iou_type)
    assert 0.1 < want[0] < 0.9, "the fixture should give a non-trivial AP"
    for evaluator in (CocoEvaluator(json_path), CocoEvaluator(gt), CocoEvaluator(json_path, validate=False)):
        got = evaluator.evaluate(results, iou_type=iou_type)
        assert list(got) == list(DET_KEYS)
        np.testing.assert_allclose([got[k] for k in DET_KEYS], want, rtol=0, atol=1e-6)
    assert "Average Precision" in evaluator.last_summary


def test_image_subset_and_per_class(fixture):
    json_path, gt, boxes, _ = fixture
    subset = [img["id"] for img in gt["images"][:15]]
    want = reference_stats(json_path, boxes, "bbox", imgIds=subset)
    got = CocoEvaluator(json_path).evaluate(boxes, image_ids=subset, per_class=True)
    np.testing.assert_allclose([got[k] for k in DET_KEYS], want, atol=1e-6)
    # Per-class AP from pycocotools restricted to one category at a time.
    for cat in gt["categories"]:
        ref = reference_stats(json_path, boxes, "bbox", imgIds=subset, catIds=[cat["id"]])
        assert got["per_class_AP"][cat["name"]] == pytest.approx(ref[0], abs=1e-6)


def test_proposal_recall_matches_pycocotools(fixture):
    json_path, gt, boxes, _ = fixture
    rng = np.random.default_rng(1)
    proposals = [{k: v for k, v in b.items() if k != "category_id"} for b in boxes]
    for img in gt["images"]:  # many class-agnostic proposals per image
        for _ in range(40):
            x, y = rng.uniform(0, SIZE - 8, 2)
            w, h = rng.uniform(4, SIZE - max(x, y), 2)
            proposals.append({"image_id": img["id"], "bbox": [x, y, w, h], "score": float(rng.random())})
    with_cat = [dict(p, category_id=1) for p in proposals]
    want = reference_stats(json_path, with_cat, "bbox", useCats=0, maxDets=[1, 10, 1000])
    got = CocoEvaluator(json_path).proposal_recall(proposals, max_dets=1000)
    # summarize(): stats[8] = AR at maxDets[2], stats[9..11] = small / medium / large at maxDets[2].
    np.testing.assert_allclose(
        [got["AR@1000"], got["ARs@1000"], got["ARm@1000"], got["ARl@1000"]], want[8:12], atol=1e-6
    )
    assert got["AR@1000"] > 0.2
    want10 = reference_stats(json_path, with_cat, "bbox", useCats=0, maxDets=[1, 5, 10])
    assert CocoEvaluator(json_path).proposal_recall(proposals, max_dets=10)["AR@10"] == pytest.approx(
        want10[8], abs=1e-6
    )


def test_detections_to_results_maps_classes_and_boxes(fixture):
    json_path, gt, _, _ = fixture
    evaluator = CocoEvaluator(json_path)
    ids = [gt["images"][0]["id"], gt["images"][1]["id"]]
    boxes = np.array(
        [[[1, 2, 11, 22], [5, 5, 6, 7], [0, 0, 1, 1]], [[3, 4, 8, 9], [0, 0, 2, 2], [9, 9, 9, 9]]], float
    )
    scores = np.array([[0.9, 0.8, 0.7], [0.6, 0.5, 0.4]])
    classes = np.array([[0, 2, 1], [1, -1, 0]])
    evaluator.add_detections(ids, boxes, scores, classes, num_detections=[2, 3])
    assert evaluator.results == [
        {"image_id": ids[0], "category_id": 1, "bbox": [1.0, 2.0, 10.0, 20.0], "score": 0.9},
        {"image_id": ids[0], "category_id": 7, "bbox": [5.0, 5.0, 1.0, 2.0], "score": 0.8},
        {"image_id": ids[1], "category_id": 3, "bbox": [3.0, 4.0, 5.0, 5.0], "score": 0.6},
        {"image_id": ids[1], "category_id": 1, "bbox": [9.0, 9.0, 0.0, 0.0], "score": 0.4},
    ]
    with pytest.raises(ValueError, match="classes"):
        evaluator.detections_to_results(ids[:1], boxes[:1], scores[:1], [[3, 0, 0]])


def test_bad_results_and_empty(fixture, tmp_path):
    json_path, _, boxes, _ = fixture
    evaluator = CocoEvaluator(json_path)
    with pytest.raises(ValueError, match="image_id 123456789"):
        evaluator.evaluate([dict(boxes[0], image_id=123456789)])
    with pytest.raises(ValueError, match=r"results\[0\]: missing 'score'"):
        evaluator.evaluate([{k: v for k, v in boxes[0].items() if k != "score"}])
    with pytest.raises(ValueError, match="iou_type"):
        evaluator.evaluate(boxes, iou_type="mask")
    assert evaluator.evaluate([]) == {k: 0.0 for k in DET_KEYS}
    path = write_results(boxes, str(tmp_path / "res.json"))
    assert load_results(path) == boxes and os.listdir(tmp_path) == ["res.json"]
    (tmp_path / "bad.json").write_text('{"a": 1}')
    with pytest.raises(ValueError, match="bad.json"):
        load_results(str(tmp_path / "bad.json"))


def test_cli_writes_metrics_json(fixture, tmp_path):
    json_path, _, boxes, _ = fixture
    pred = write_results(boxes, str(tmp_path / "pred.json"))
    out = tmp_path / "metrics.json"
    cmd = [
        sys.executable,
        "-m",
        "tools.coco_eval",
        f"--gt={json_path}",
        f"--pred={pred}",
        "--iou_type=bbox",
        f"--json={out}",
        "--proposals",
    ]
    proc = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=REPO)
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(out.read_text())
    assert {"AP", "AP50", "AP75", "APs", "APm", "APl", "AR100", "AR@1000"} <= set(metrics)
    want = reference_stats(json_path, boxes, "bbox")
    np.testing.assert_allclose([metrics[k] for k in DET_KEYS], want, atol=1e-6)
    assert all(-1.0 <= v <= 1.0 for v in metrics.values())


def test_keypoints_match_pycocotools(tmp_path):
    """A small person-keypoints fixture (17 COCO keypoints) with noisy predictions."""
    rng = np.random.default_rng(4)
    images, anns, dets = [], [], []
    for image_id in range(1, 7):
        images.append({"id": image_id, "file_name": f"{image_id}.jpg", "width": 200, "height": 200})
        for _ in range(2):
            x, y = rng.uniform(0, 100, 2)
            w, h = rng.uniform(30, 90, 2)
            kx, ky = x + rng.uniform(0, w, 17), y + rng.uniform(0, h, 17)
            vis = rng.integers(0, 3, 17)
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                    "num_keypoints": int((vis > 0).sum()),
                    "keypoints": np.stack([kx, ky, vis], 1).reshape(-1).tolist(),
                }
            )
            noise = rng.normal(0, 4, (2, 17))
            dets.append(
                {
                    "image_id": image_id,
                    "category_id": 1,
                    "score": float(rng.random()),
                    "keypoints": np.stack([kx + noise[0], ky + noise[1], np.ones(17)], 1)
                    .reshape(-1)
                    .tolist(),
                }
            )
    gt = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "person"}]}
    path = tmp_path / "kpt.json"
    path.write_text(json.dumps(gt))
    want = reference_stats(str(path), dets, "keypoints")
    got = CocoEvaluator(str(path)).evaluate(dets, iou_type="keypoints")
    keys = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]
    assert list(got) == keys and 0 < want[0] < 1
    np.testing.assert_allclose([got[k] for k in keys], want, atol=1e-6)

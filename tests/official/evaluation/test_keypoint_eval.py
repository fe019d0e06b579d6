"""COCO keypoint evaluation (official/evaluation/keypoints.py) against pycocotools and hand-made cases."""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from official.evaluation import keypoints as kpe

SIGMAS = kpe.COCO_SIGMAS


def _synthetic_coco(seed=0):
    """A person_keypoints GT dict (with a crowd region and a zero-keypoint person) + raw predictions."""
    rng = np.random.default_rng(seed)
    images, anns, preds = [], [], []
    ann_id = 1
    for image_id in range(1, 6):
        images.append({"id": image_id, "file_name": f"{image_id:012d}.jpg", "width": 640, "height": 480})
        for _ in range(rng.integers(1, 4)):
            x, y = rng.uniform(0, 400), rng.uniform(0, 250)
            w, h = rng.uniform(30, 200), rng.uniform(60, 220)
            kp = np.stack(
                [
                    x + rng.uniform(0, w, 17),
                    y + rng.uniform(0, h, 17),
                    rng.choice([0, 1, 2], 17, p=[0.3, 0.2, 0.5]),
                ],
                -1,
            )
            kp[kp[:, 2] == 0, :2] = 0
            anns.append(_ann(ann_id, image_id, [x, y, w, h], w * h * rng.uniform(0.4, 0.8), kp))
            ann_id += 1
            for _ in range(rng.integers(1, 3)):  # noisy copies: good and poor localisations
                noise = rng.normal(0, rng.choice([0.01, 0.04, 0.3]) * np.sqrt(w * h), (17, 2))
                preds.append(
                    (
                        image_id,
                        kp[:, :2] + noise + (kp[:, 2:] == 0) * [x + w / 2, y + h / 2],
                        rng.uniform(0.05, 1, 17),
                        rng.uniform(0.3, 1),
                    )
                )
        preds.append(
            (image_id, rng.uniform([0, 0], [640, 480], (17, 2)), rng.uniform(0, 1, 17), rng.uniform(0, 0.5))
        )
    # image 1: a crowd region and a labelled person with no keypoint (num_keypoints 0 -> ignored)
    anns.append(_ann(ann_id, 1, [300, 200, 150, 120], 9000.0, np.zeros((17, 3)), iscrowd=1))
    anns.append(_ann(ann_id + 1, 1, [20, 300, 60, 100], 4000.0, np.zeros((17, 3))))
    preds.append((1, rng.uniform([300, 200], [450, 320], (17, 2)), rng.uniform(0, 1, 17), 0.9))
    preds.append((1, rng.uniform([0, 280], [90, 410], (17, 2)), rng.uniform(0, 1, 17), 0.8))
    gt = {
        "images": images,
        "annotations": anns,
        "categories": [
            {"id": 1, "name": "person", "supercategory": "person", "keypoints": [str(i) for i in range(17)]}
        ],
    }
    return gt, preds


def _ann(ann_id, image_id, bbox, area, kp, iscrowd=0):
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": 1,
        "bbox": [float(v) for v in bbox],
        "area": float(area),
        "iscrowd": iscrowd,
        "num_keypoints": int(np.count_nonzero(kp[:, 2] > 0)),
        "keypoints": [float(v) for v in np.asarray(kp).reshape(-1)],
    }


def _pycocotools(gt_dict, results):
    """COCOeval(iouType='keypoints') run directly; returns (evaluator after accumulate, stats)."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(gt_dict)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(results))
        ev = COCOeval(gt, dt, "keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev, ev.stats


def _results(preds):
    ids = [p[0] for p in preds]
    return kpe.keypoints_to_results(ids, [p[1] for p in preds], [p[2] for p in preds], [p[3] for p in preds])


def test_oks_equals_pycocotools_computeoks():
    gt_dict, preds = _synthetic_coco(seed=1)
    ev, _ = _pycocotools(gt_dict, _results(preds))
    checked = 0
    for image in gt_dict["images"]:
        gts, dts = ev._gts[image["id"], 1], ev._dts[image["id"], 1]
        dts = [dts[i] for i in np.argsort([-d["score"] for d in dts], kind="mergesort")]
        ref = np.asarray(ev.computeOks(image["id"], 1))
        got = kpe.oks(
            [g["keypoints"] for g in gts],
            [g["area"] for g in gts],
            [d["keypoints"] for d in dts],
            gt_boxes=[g["bbox"] for g in gts],
        )
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)
        checked += ref.size
        assert 0.0 <= got.min() and got.max() <= 1.0
    assert checked > 20
    no_visible = [a for a in gt_dict["annotations"] if a["num_keypoints"] == 0]
    with pytest.raises(ValueError, match="gt_boxes"):
        kpe.oks([no_visible[0]["keypoints"]], [1.0], np.zeros((1, 17, 2)))


def test_oks_by_hand():
    gt = np.zeros((1, 17, 3))
    gt[0, :, :2] = np.arange(34).reshape(17, 2)
    gt[0, :, 2] = 2
    gt[0, 3, 2] = 0  # unlabelled: does not count
    dt = gt[:, :, :2].copy()
    dt[0, 5, 0] += 10.0
    dt[0, 3] += 500.0
    area = 2500.0
    expected = (15 + np.exp(-100.0 / (2 * area * (2 * SIGMAS[5]) ** 2))) / 16
    np.testing.assert_allclose(kpe.oks(gt, [area], dt), [[expected]], rtol=1e-12)


def test_keypoint_ap_equals_pycocotools(tmp_path):
    gt_dict, preds = _synthetic_coco(seed=2)
    gt_path = str(tmp_path / "person_keypoints.json")
    with open(gt_path, "w") as f:
        json.dump(gt_dict, f)
    evaluator = kpe.KeypointCocoEvaluator(gt_path)
    box_scores = np.array([p[3] for p in preds])
    kp_scores = np.array([p[2] for p in preds])
    for lo in range(0, len(preds), 4):  # batches
        chunk = preds[lo : lo + 4]
        evaluator.add_keypoints(
            [p[0] for p in chunk], [p[1] for p in chunk], [p[2] for p in chunk], [p[3] for p in chunk]
        )
    assert len(evaluator.results) == len(preds)
    r0 = evaluator.results[0]
    assert r0["category_id"] == 1 and len(r0["keypoints"]) == 51
    assert r0["keypoints"][2::3] == pytest.approx(kp_scores[0].tolist())
    np.testing.assert_allclose(
        [r["score"] for r in evaluator.results], box_scores * kp_scores.mean(1), rtol=1e-12
    )
    metrics = evaluator.evaluate()
    res_path = evaluator.write_results(str(tmp_path / "results.json"))
    with open(res_path) as f:
        written = json.load(f)
    _, stats = _pycocotools(json.load(open(gt_path)), written)
    np.testing.assert_allclose([metrics[k] for k in kpe.coco.KPT_KEYS], stats, atol=1e-6)
    assert 0.2 < metrics["AP"] < 0.95 and metrics["APm"] != metrics["APl"]
    # the HRNet rescoring goes through the same path
    hr = kpe.KeypointCocoEvaluator(gt_dict)
    hr.add_keypoints([p[0] for p in preds], [p[1] for p in preds], kp_scores, box_scores, vis_thresh=0.2)
    _, stats = _pycocotools(gt_dict, hr.results)
    np.testing.assert_allclose([hr.evaluate()[k] for k in kpe.coco.KPT_KEYS], stats, atol=1e-6)


def test_rescore():
    kp = np.array([[0.1, 0.3, 0.5, 0.15], [0.1, 0.1, 0.2, 0.05]])
    np.testing.assert_allclose(kpe.rescore([0.5, 2.0], kp), [0.5 * 0.2625, 2.0 * 0.1125])
    np.testing.assert_allclose(kpe.rescore([0.5, 2.0], kp, vis_thresh=0.2), [0.5 * 0.4, 0.0])


def test_oks_nms_hand_case():
    rng = np.random.default_rng(3)
    base = np.concatenate([rng.uniform(100, 200, (17, 2)), np.ones((17, 1))], -1)
    persons = np.stack(
        [
            base,  # 0: within 0.7 px of 1, lower score: removed
            base + [0.5, -0.5, 0],  # 1: best score: kept
            base + [300, 0, 0],  # 2: far away: kept
            base + [300 + 12, 0, 0],  # 3: near 2 but OKS ~ 0.6: kept
            base + [300.3, 0.2, 0],  # 4: duplicate of 2 with a lower score: removed
        ]
    )
    scores = [0.8, 0.9, 0.7, 0.6, 0.5]
    areas = [10000.0] * 5
    overlap = kpe.pairwise_oks(persons, areas, 2, [3, 4])
    assert 0.3 < overlap[0] < 0.9 < overlap[1]
    assert kpe.oks_nms(persons, scores, areas, thresh=0.9) == [1, 2, 3]
    assert kpe.oks_nms(persons, scores, areas, thresh=0.5) == [1, 2]
    assert kpe.oks_nms(persons, scores, areas, thresh=1.0) == [1, 0, 2, 3, 4]  # OKS <= thresh stays
    # pairwise OKS by hand: one keypoint off by d, mean of the two areas
    two = np.stack([base, base])
    two[1, 7, 0] += 6.0
    expected = (16 + np.exp(-36.0 / (2 * 7000.0 * (2 * SIGMAS[7]) ** 2))) / 17
    np.testing.assert_allclose(kpe.pairwise_oks(two, [4000.0, 10000.0], 0, [1]), [expected], rtol=1e-12)
    # vis_thresh: HRNet's mask comes from the other person's keypoint scores only
    two[1, :, 2] = 0.0
    two[1, :3, 2] = 1.0
    np.testing.assert_allclose(kpe.pairwise_oks(two, [4000.0, 10000.0], 0, [1], vis_thresh=0.2), [1.0])
    two[1, 7, 2] = 1.0
    np.testing.assert_allclose(
        kpe.pairwise_oks(two, [4000.0, 10000.0], 0, [1], vis_thresh=0.2),
        [(3 + np.exp(-36.0 / (2 * 7000.0 * (2 * SIGMAS[7]) ** 2))) / 4],
    )
    # per image over results
    results = kpe.keypoints_to_results(
        [7] * 5 + [8],
        np.concatenate([persons, persons[:1]])[..., :2],
        np.ones((6, 17)),
        scores + [0.1],
        areas=areas + [1.0],
    )
    kept = kpe.oks_nms_results(results, thresh=0.9)
    assert [r["score"] for r in kept] == [0.9, 0.7, 0.6, 0.1]


def test_custom_sigmas_reach_cocoeval():
    """Layouts beyond COCO's 17 (Crowd3DPose's 23) need their own OKS constants: the evaluator's `sigmas`
    give the AP of a COCOeval run whose Params.kpt_oks_sigmas are those constants, not pycocotools' default."""
    gt, preds = _synthetic_coco(seed=3)
    results = _results(preds)
    sigmas = np.linspace(0.02, 0.2, 17)
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        ev = COCOeval(coco_gt, coco_gt.loadRes(copy.deepcopy(results)), "keypoints")
        ev.params.kpt_oks_sigmas = sigmas
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    ours = kpe.KeypointCocoEvaluator(gt, sigmas=sigmas).evaluate(results)
    default = kpe.KeypointCocoEvaluator(gt).evaluate(results)
    assert ours["AP"] == pytest.approx(ev.stats[0], abs=1e-12)
    assert ours["AR"] == pytest.approx(ev.stats[5], abs=1e-12)
    assert abs(default["AP"] - ours["AP"]) > 1e-3  # the constants matter on this set
    per_call = kpe.KeypointCocoEvaluator(gt).evaluate(results, sigmas=sigmas)
    assert per_call["AP"] == pytest.approx(ev.stats[0], abs=1e-12)

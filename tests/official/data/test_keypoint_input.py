"""COCO keypoints reader and the top-down pipeline on a fixture written in the real format: 2 JPEGs, a
person_keypoints JSON with 3 persons (one all v=0) and a 3-entry detection results JSON."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from official.core.errors import UserError
from official.data import coco_keypoints, keypoint_input
from official.data.coco_annotations import CocoFormatError
from official.data.keypoint_constants import RSN_MEAN_BGR, RSN_STD_BGR

RED_AT, BLUE_AT = (44, 30), (26, 30)  # person A's left / right shoulder (image x, y)


def _keypoints(points):
    flat = []
    for x, y, v in points:
        flat += [x, y, v]
    return flat


def _person_a():
    """Mixed v=1/2 with some v=0; left shoulder on the red dot, right shoulder on the blue dot."""
    pts = [[35, 16, 2], [37, 14, 2], [33, 14, 1], [0, 0, 0], [30, 15, 1]]
    pts += [[*RED_AT, 2], [*BLUE_AT, 1], [48, 44, 2], [22, 44, 1], [50, 56, 2], [20, 56, 0]]
    pts += [[41, 58, 2], [29, 58, 2], [42, 74, 1], [28, 74, 2], [43, 88, 2], [27, 88, 0]]
    return pts


def _person_c():
    pts = [[30 + (i % 5) * 2, 10 + 3 * i, 2] for i in range(17)]
    pts[3] = [0, 0, 0]
    pts[16] = [200, 60, 2]  # far outside the image and any crop: must end invalid
    return pts


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("coco_kp"))
    image_dir = os.path.join(root, "val2017")
    os.makedirs(image_dir)
    yy, xx = np.mgrid[0:96, 0:72]
    a = np.stack([40 + xx // 3, 40 + yy // 4, 60 + 0 * xx], -1).astype(np.uint8)
    a[RED_AT[1] - 2 : RED_AT[1] + 3, RED_AT[0] - 2 : RED_AT[0] + 3] = (255, 0, 0)
    a[BLUE_AT[1] - 2 : BLUE_AT[1] + 3, BLUE_AT[0] - 2 : BLUE_AT[0] + 3] = (0, 0, 255)
    Image.fromarray(a).save(os.path.join(image_dir, "000000000010.jpg"), quality=98, subsampling=0)
    yy, xx = np.mgrid[0:64, 0:64]
    b = np.stack([100 + xx, 200 - 2 * yy, 80 + xx + yy], -1).astype(np.uint8)
    Image.fromarray(b).save(os.path.join(image_dir, "000000000020.jpg"), quality=98, subsampling=0)
    gt = {
        "info": {"description": "fixture"},
        "images": [
            {"id": 10, "file_name": "000000000010.jpg", "width": 72, "height": 96},
            {"id": 20, "file_name": "000000000020.jpg", "width": 64, "height": 64},
        ],
        "categories": [{"id": 1, "name": "person", "keypoints": ["k"] * 17, "skeleton": []}],
        "annotations": [
            {"id": 1, "image_id": 10, "category_id": 1, "bbox": [18, 8, 36, 84], "area": 2000.0, "iscrowd": 0,
             "num_keypoints": 14, "keypoints": _keypoints(_person_a())},
            {"id": 2, "image_id": 10, "category_id": 1, "bbox": [2, 60, 10, 20], "area": 150.0, "iscrowd": 0,
             "num_keypoints": 0, "keypoints": [0] * 51},
            {"id": 3, "image_id": 20, "category_id": 1, "bbox": [20, 6, 24, 52], "area": 900.0, "iscrowd": 0,
             "num_keypoints": 16, "keypoints": _keypoints(_person_c())},
        ],
    }  # fmt: skip
    json_path = os.path.join(root, "person_keypoints_val2017.json")
    with open(json_path, "w") as f:
        json.dump(gt, f)
    dets = [
        {"image_id": 10, "category_id": 1, "bbox": [17.5, 9.0, 37.0, 80.0], "score": 0.9},
        {"image_id": 20, "category_id": 1, "bbox": [19.0, 5.0, 26.0, 50.0], "score": 0.4},
        {"image_id": 20, "category_id": 2, "bbox": [1.0, 1.0, 5.0, 5.0], "score": 0.8},
    ]
    det_path = os.path.join(root, "person_detections.json")
    with open(det_path, "w") as f:
        json.dump(dets, f)
    return {"json": json_path, "images": image_dir, "gt": gt, "dets": det_path, "root": root}


def test_reader_keeps_labeled_persons_exactly(fixture):
    rec = coco_keypoints.load_coco_keypoints(fixture["json"], fixture["images"])
    assert len(rec) == 2 and rec.num_keypoints == 17
    assert rec.skipped["no_visible_keypoints"] == 1 and rec.skipped_ids["no_visible_keypoints"] == [2]
    assert sum(rec.skipped.values()) == 1
    np.testing.assert_array_equal(rec.image_ids, [10, 20])
    assert rec.image_paths == [os.path.join(fixture["images"], f"0000000000{i}.jpg") for i in (10, 20)]
    np.testing.assert_array_equal(rec.bboxes, [[18, 8, 36, 84], [20, 6, 24, 52]])
    np.testing.assert_array_equal(rec.centers, [[36, 50], [32, 32]])
    np.testing.assert_array_equal(rec.scales, [[36, 84], [24, 52]])
    np.testing.assert_array_equal(rec.keypoints[0], np.asarray(_person_a(), np.float32))
    np.testing.assert_array_equal(rec.areas, [2000, 900])
    np.testing.assert_array_equal(rec.scores, [1, 1])
    np.testing.assert_array_equal(rec.image_sizes, [[96, 72], [64, 64]])


def test_malformed_persons_are_counted_and_skipped(fixture, tmp_path, caplog):
    gt = json.loads(json.dumps(fixture["gt"]))
    good = gt["annotations"][0]
    gt["categories"].append({"id": 2, "name": "dog"})
    extra = [
        dict(good, id=11, bbox=[1, 2, 0, 5]),  # bad bbox (coco_annotations)
        dict(good, id=12, keypoints=good["keypoints"][:48]),  # 16 keypoints
        dict(good, id=13, keypoints=good["keypoints"][:50] + [3]),  # v = 3
        dict(good, id=14, keypoints=good["keypoints"][:3] + ["x"] + good["keypoints"][4:]),
        dict(good, id=15, iscrowd=1),
        dict(good, id=16, category_id=2),
        dict(good, id=17, image_id=99),
        dict(good, id=18),  # fine
    ]
    gt["annotations"] += extra
    path = tmp_path / "kp.json"
    path.write_text(json.dumps(gt))
    rec = coco_keypoints.load_coco_keypoints(str(path), fixture["images"])
    assert len(rec) == 3
    want = {"bad_bbox": [11], "bad_keypoints": [12, 13, 14], "crowd": [15], "not_person": [16],
            "unknown_image": [17], "no_visible_keypoints": [2]}  # fmt: skip
    assert {k: v for k, v in rec.skipped_ids.items() if v} == want
    assert rec.skipped["bad_keypoints"] == 3
    assert "skipped 8 of 11 persons" in caplog.text and "id=12 (bad_keypoints)" in caplog.text
    sub = rec.subset([2, 0])
    np.testing.assert_array_equal(sub.image_ids, [10, 10])
    assert sub.image_paths[0] == rec.image_paths[2] and len(sub) == 2


def test_schema_errors_name_the_file_and_field(fixture, tmp_path):
    gt = json.loads(json.dumps(fixture["gt"]))
    for ann in gt["annotations"]:
        del ann["keypoints"]
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(gt))
    with pytest.raises(CocoFormatError, match=r"instances.json: annotations have no 'keypoints' field"):
        coco_keypoints.load_coco_keypoints(str(path), fixture["images"])
    with pytest.raises(UserError, match="nope.json"):
        coco_keypoints.load_coco_keypoints(str(tmp_path / "nope.json"), fixture["images"])
    with pytest.raises(FileNotFoundError, match="missing_dir"):
        coco_keypoints.load_coco_keypoints(fixture["json"], str(tmp_path / "missing_dir"))
    with pytest.raises(UserError, match="dets.json"):
        coco_keypoints.load_coco_detections(str(tmp_path / "dets.json"), fixture["images"], fixture["json"])


def test_detection_records(fixture):
    rec = coco_keypoints.load_coco_detections(fixture["dets"], fixture["images"], fixture["json"])
    assert len(rec) == 2 and rec.skipped == {
        "bad_detection": 0,
        "unknown_image": 0,
        "not_person": 1,
        "low_score": 0,
    }
    np.testing.assert_allclose(rec.scores, [0.9, 0.4])
    np.testing.assert_allclose(rec.centers, [[36.0, 49.0], [32.0, 30.0]])
    np.testing.assert_allclose(rec.areas, [37.0 * 80.0, 26.0 * 50.0])
    assert (rec.keypoints == 0).all()
    high = coco_keypoints.load_coco_detections(
        fixture["dets"], fixture["images"], fixture["json"], score_threshold=0.5
    )
    assert len(high) == 1 and high.skipped["low_score"] == 1


def rsn_eval_reference(image_path, bbox):
    """RSN's test-time crop, computed independently: centre, scale x (1.09, 1.135), aspect fit to 3/4,
    three-point affine and cv2.warpAffine on the BGR image."""
    x, y, w, h = bbox
    center = np.array([x + w / 2, y + h / 2])
    sw, sh = w * 1.09, h * 1.135
    if sw > 0.75 * sh:
        sh = sw / 0.75
    else:
        sw = sh * 0.75
    src = np.array([center, center + [0, -sw / 2], center + [-sw / 2, -sw / 2]], np.float32)
    dst = np.array([[96, 128], [96, 32], [0, 32]], np.float32)
    m = cv2.getAffineTransform(src, dst)
    bgr = tf.io.decode_image(tf.io.read_file(image_path), channels=3).numpy()[..., ::-1].astype(np.float32)
    return center, (sw, sh), m, cv2.warpAffine(bgr, m, (192, 256), flags=cv2.INTER_LINEAR)


def test_eval_pipeline_on_detections(fixture):
    ds = keypoint_input.coco_keypoint_dataset(
        fixture["json"], fixture["images"], False, detections=fixture["dets"]
    )
    examples = list(ds)
    assert len(examples) == 2
    ex = examples[0]
    assert set(ex) == {"image", "image_id", "center", "scale", "score", "bbox", "area"}
    assert ex["image"].shape == (256, 192, 3) and ex["image"].dtype == tf.float32
    center, scale, _, ref = rsn_eval_reference(
        os.path.join(fixture["images"], "000000000010.jpg"), [17.5, 9, 37, 80]
    )
    np.testing.assert_allclose(ex["center"].numpy(), center, rtol=1e-6)
    np.testing.assert_allclose(ex["scale"].numpy(), scale, rtol=1e-6)
    assert int(ex["image_id"]) == 10 and float(ex["score"]) == pytest.approx(0.9)
    np.testing.assert_allclose(ex["bbox"].numpy(), [17.5, 9, 37, 80])
    pixels = (ex["image"].numpy() * RSN_STD_BGR + RSN_MEAN_BGR) * 255.0  # BGR, 0-255
    assert np.abs(pixels - ref).mean() < 0.5  # cv2 samples on a 1/32 px grid
    assert np.abs(pixels - ref).max() < 8.0


def test_eval_pipeline_gt_targets_and_validity(fixture):
    rec = coco_keypoints.load_coco_keypoints(fixture["json"], fixture["images"])
    ds = keypoint_input.keypoint_dataset(rec, training=False, with_targets=True)
    for ex, image_name, bbox, person in zip(
        ds, ("000000000010.jpg", "000000000020.jpg"), rec.bboxes, (_person_a(), _person_c()), strict=True
    ):
        assert ex["heatmaps"].shape == (5, 64, 48, 17) and ex["valid"].shape == (17,)
        _, _, m, _ = rsn_eval_reference(os.path.join(fixture["images"], image_name), bbox)
        pts = np.asarray(person, np.float64)
        xy = pts[:, :2] @ m[:, :2].T + m[:, 2]
        inside = (xy[:, 0] >= 0) & (xy[:, 0] <= 191) & (xy[:, 1] >= 0) & (xy[:, 1] <= 255)
        want_valid = np.where(inside, pts[:, 2], 0)
        np.testing.assert_array_equal(ex["valid"].numpy(), want_valid)
        np.testing.assert_allclose(ex["keypoints"].numpy()[:, :2], xy, atol=1e-3)
        hm = ex["heatmaps"].numpy()
        on = want_valid >= 1
        np.testing.assert_allclose(hm.max(axis=(1, 2))[:, on], 255.0, rtol=1e-6)
        assert (hm[..., ~on] == 0).all()
        peak = np.unravel_index(hm[4, :, :, 5 if on[5] else 0].argmax(), (64, 48))
        k = 5 if on[5] else 0
        assert peak == (int(xy[k, 1] / 4), int(xy[k, 0] / 4))
    assert want_valid[16] == 0 and _person_c()[16][2] == 2  # the far keypoint became invalid


def rsn_reference_heatmaps(kp, input_size, heatmap_size, kernels):
    """RSN generate_heatmap, channels last: impulse at int(coordinate), cv2.GaussianBlur, max -> 255."""
    out = np.zeros((len(kernels), heatmap_size[0], heatmap_size[1], kp.shape[0]), np.float32)
    for n, ks in enumerate(kernels):
        for i in np.nonzero(kp[:, 2] >= 1)[0]:
            hm = np.zeros(heatmap_size, np.float32)
            hm[
                int(kp[i, 1] * heatmap_size[0] / input_size[0]),
                int(kp[i, 0] * heatmap_size[1] / input_size[1]),
            ] = 1
            hm = cv2.GaussianBlur(hm, (ks, ks), 0)
            out[n, :, :, i] = hm / (hm.max() / 255)
    return out


def _centroid(mask):
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()]) if len(xs) else None


def test_training_pipeline_dots_land_on_keypoints(fixture):
    """Dots drawn at person A's shoulders stay under the augmented keypoints; after a flip the red (left)
    dot is labeled right shoulder. Targets equal the cv2 rendering of the output keypoints."""
    rec = coco_keypoints.load_coco_keypoints(fixture["json"], fixture["images"])
    ds = keypoint_input.keypoint_dataset(rec.subset([0]), training=True, seed=4).repeat(12)
    examples = list(ds)
    again = list(keypoint_input.keypoint_dataset(rec.subset([0]), training=True, seed=4).repeat(2))
    np.testing.assert_array_equal(again[1]["image"].numpy(), examples[1]["image"].numpy())
    flipped_seen = checked = 0
    for ex in examples:
        assert ex["image"].shape == (256, 192, 3) and ex["heatmaps"].shape == (5, 64, 48, 17)
        kp = ex["keypoints"].numpy()
        np.testing.assert_array_equal(kp[:, 2], ex["valid"].numpy())
        np.testing.assert_allclose(
            ex["heatmaps"].numpy(),
            rsn_reference_heatmaps(kp, (256, 192), (64, 48), (15, 11, 9, 7, 5)),
            atol=1e-3,
        )
        bgr = (ex["image"].numpy() * RSN_STD_BGR + RSN_MEAN_BGR) * 255.0
        redness, blueness = bgr[..., 2] - bgr[..., 0], bgr[..., 0] - bgr[..., 2]
        red, blue = _centroid(redness > 100), _centroid(blueness > 100)
        if red is None or blue is None or kp[5, 2] == 0 or kp[6, 2] == 0:
            continue  # a dot cut off by the crop (half-body, zoom)
        # red is the person's left shoulder: index 5, or index 6 when the sample was mirrored.
        flipped = np.linalg.norm(red - kp[6, :2]) < np.linalg.norm(red - kp[5, :2])
        red_idx, blue_idx = (6, 5) if flipped else (5, 6)
        assert np.linalg.norm(red - kp[red_idx, :2]) < 1.5, (red, kp[red_idx])
        assert np.linalg.norm(blue - kp[blue_idx, :2]) < 1.5, (blue, kp[blue_idx])
        flipped_seen += flipped
        checked += 1
    assert checked >= 6 and 0 < flipped_seen < checked

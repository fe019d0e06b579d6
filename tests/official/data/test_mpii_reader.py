"""MPII reader (HRNet/RSN mpii_annotations JSON), PCKh ground truth (.mat / .npz / .json) and the MPII
top-down pipeline, on fixtures written in those formats."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import scipy.io
from PIL import Image

from official.core.errors import UserError
from official.data import keypoint_input, mpii


def _joints(seed):
    rng = np.random.default_rng(seed)
    joints = rng.uniform(20, 60, (16, 2)).round(1)
    vis = (rng.uniform(size=16) > 0.3).astype(int)
    return joints, vis


@pytest.fixture(scope="module")
def mpii_fixture(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("mpii"))
    image_dir = os.path.join(root, "images")
    os.makedirs(image_dir)
    for name, (h, w) in {"015601864.jpg": (80, 72), "015599452.jpg": (64, 96)}.items():
        yy, xx = np.mgrid[0:h, 0:w]
        Image.fromarray(np.stack([xx * 2, yy * 3, xx + yy], -1).astype(np.uint8)).save(
            os.path.join(image_dir, name)
        )
    j0, v0 = _joints(0)
    j2, v2 = _joints(2)
    entries = [
        {"joints_vis": v0.tolist(), "joints": j0.tolist(), "image": "015601864.jpg", "scale": 0.25, "center": [40.0, 30.0]},
        {"joints_vis": [1] * 15, "joints": j0.tolist()[:15], "image": "015601864.jpg", "scale": 0.3, "center": [30.0, 30.0]},
        {"joints_vis": v2.tolist(), "joints": j2.tolist(), "image": "015599452.jpg", "scale": 0.2, "center": [50.0, 28.0]},
    ]  # fmt: skip
    json_path = os.path.join(root, "valid.json")
    with open(json_path, "w") as f:
        json.dump(entries, f)
    return {"json": json_path, "images": image_dir, "entries": entries, "root": root}


def test_mpii_records_follow_rsn(mpii_fixture, caplog):
    rec = mpii.load_mpii(mpii_fixture["json"], mpii_fixture["images"])
    assert len(rec) == 2 and rec.num_keypoints == 16
    assert rec.skipped == {"bad_record": 0, "bad_joints": 1} and rec.skipped_ids["bad_joints"] == [1]
    assert "skipping entry #1 (bad_joints)" in caplog.text
    np.testing.assert_array_equal(rec.image_ids, [0, 2])  # index in the file = PCKh ground-truth column
    e = mpii_fixture["entries"][0]
    # centre moves down by 15 * scale, then everything shifts to 0-based pixels; box = scale * 200 px.
    np.testing.assert_allclose(rec.centers[0], [40 - 1, 30 + 15 * 0.25 - 1])
    np.testing.assert_allclose(rec.scales[0], [50.0, 50.0])
    np.testing.assert_allclose(rec.bboxes[0], [39 - 25, 32.75 - 25, 50, 50])
    np.testing.assert_allclose(rec.keypoints[0, :, :2], np.asarray(e["joints"]) - 1, rtol=1e-6)
    np.testing.assert_array_equal(rec.keypoints[0, :, 2], np.asarray(e["joints_vis"]) * 2)
    assert rec.image_paths[1].endswith("015599452.jpg")


def test_mpii_without_joints_and_schema_errors(mpii_fixture, tmp_path):
    test_entries = [
        {k: v for k, v in e.items() if k in ("image", "center", "scale")} for e in mpii_fixture["entries"]
    ]
    path = tmp_path / "test.json"
    path.write_text(json.dumps(test_entries))
    rec = mpii.load_mpii(str(path), mpii_fixture["images"], require_joints=False)
    assert len(rec) == 3 and (rec.keypoints == 0).all()
    with pytest.raises(mpii.MpiiFormatError, match=r"test.json: no entry has the field 'joints'"):
        mpii.load_mpii(str(path), mpii_fixture["images"])
    path.write_text(json.dumps({"image": "x"}))
    with pytest.raises(UserError, match="test.json: top level must be a list"):
        mpii.load_mpii(str(path), mpii_fixture["images"])
    with pytest.raises(FileNotFoundError, match="absent.json"):
        mpii.load_mpii(str(tmp_path / "absent.json"), mpii_fixture["images"])


def test_mpii_ground_truth_formats(tmp_path):
    rng = np.random.default_rng(5)
    n = 4
    headboxes = rng.uniform(0, 100, (2, 2, n))
    pos = rng.uniform(0, 500, (16, 2, n))
    missing = (rng.uniform(size=(16, n)) > 0.7).astype(np.uint8)
    want_sizes = 0.6 * np.hypot(headboxes[1, 0] - headboxes[0, 0], headboxes[1, 1] - headboxes[0, 1])
    scipy.io.savemat(
        tmp_path / "gt_valid.mat", {"headboxes_src": headboxes, "pos_gt_src": pos, "jnt_missing": missing}
    )
    np.savez(tmp_path / "gt_valid.npz", headboxes_src=headboxes, pos_gt_src=pos, jnt_visible=1 - missing)
    (tmp_path / "gt_valid.json").write_text(
        json.dumps(
            {"headboxes_src": headboxes.tolist(), "pos_gt_src": pos.tolist(), "jnt_missing": missing.tolist()}
        )
    )
    for name in ("gt_valid.mat", "gt_valid.npz", "gt_valid.json"):
        gt = mpii.load_mpii_ground_truth(str(tmp_path / name))
        np.testing.assert_allclose(gt.head_sizes, want_sizes, rtol=1e-12)
        np.testing.assert_allclose(gt.joints[2, 7], pos[7, :, 2])
        np.testing.assert_array_equal(gt.visible, (missing == 0).T)
        np.testing.assert_allclose(gt.headboxes[3], headboxes[:, :, 3])
    np.savez(tmp_path / "bad.npz", headboxes_src=headboxes, pos_gt_src=pos)
    with pytest.raises(mpii.MpiiFormatError, match=r"bad.npz: missing field 'jnt_missing'"):
        mpii.load_mpii_ground_truth(str(tmp_path / "bad.npz"))
    np.savez(tmp_path / "shape.npz", headboxes_src=headboxes, pos_gt_src=pos[:15], jnt_missing=missing)
    with pytest.raises(mpii.MpiiFormatError, match=r"shape.npz: field 'pos_gt_src' has shape \(15, 2, 4\)"):
        mpii.load_mpii_ground_truth(str(tmp_path / "shape.npz"))


def test_mpii_pipeline_shapes_and_values(mpii_fixture):
    train = list(
        keypoint_input.mpii_keypoint_dataset(mpii_fixture["json"], mpii_fixture["images"], True, seed=0)
    )
    assert len(train) == 2
    for ex in train:
        assert ex["image"].shape == (256, 256, 3) and ex["heatmaps"].shape == (5, 64, 64, 16)
        valid = ex["valid"].numpy()
        assert set(np.unique(valid)) <= {0.0, 2.0} and valid.sum() > 0
        hm = ex["heatmaps"].numpy()
        np.testing.assert_allclose(hm.max(axis=(1, 2))[:, valid > 0], 255.0, rtol=1e-6)
        assert (hm[..., valid == 0] == 0).all()
    ev = next(iter(keypoint_input.mpii_keypoint_dataset(mpii_fixture["json"], mpii_fixture["images"], False)))
    np.testing.assert_allclose(ev["center"].numpy(), [39.0, 32.75])
    np.testing.assert_allclose(ev["scale"].numpy(), [62.5, 62.5])  # RSN MPII test extension x1.25
    assert int(ev["image_id"]) == 0

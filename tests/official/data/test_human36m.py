"""Human3.6M per-subject layout (3DMPPE): writer + reader, camera geometry from the JSON, skips, errors."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from keras import ops

from official.core.errors import PathNotFoundError
from official.data import human36m, mppe3d
from official.ops import camera

SIZE = 64


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("h36m"))
    for subject in (1, 9):
        data = human36m.synthetic_subject(np.random.default_rng(subject), subject, frames=3, frame_step=32,
                                          image_size=SIZE, subactions=(1,))
        assert human36m.write_human36m(out, subject, data) == 3 * 4
    return out


def _json(root, subject, kind):
    with open(human36m.annotation_path(os.path.join(root, "annotations"), subject, kind)) as f:
        return json.load(f)


def test_file_layout_is_3dmppe(root):
    names = sorted(os.listdir(os.path.join(root, "images")))
    assert names[0] == "s_01_act_02_subact_01_ca_01" and len(names) == 2 * 4
    frames = sorted(os.listdir(os.path.join(root, "images", "s_09_act_02_subact_01_ca_03")))
    assert frames == [f"s_09_act_02_subact_01_ca_03_{n:06d}.jpg" for n in (1, 33, 65)]  # frame_idx + 1
    data = _json(root, 9, "data")
    img = data["images"][0]
    assert {"id", "file_name", "width", "height", "subject", "action_idx", "subaction_idx", "cam_idx",
            "frame_idx", "action_name"} <= set(img) and img["action_name"] == "Directions"
    assert set(data["annotations"][0]) >= {"image_id", "bbox", "keypoints_vis"}
    cams = _json(root, 9, "camera")
    assert sorted(cams) == ["1", "2", "3", "4"] and sorted(cams["1"]) == ["R", "c", "f", "t"]
    # PartAwarePose card: f = 1145 px and c = (500, 500) for a 1000-pixel image, scaled to SIZE
    np.testing.assert_allclose(cams["2"]["f"], 1145 * SIZE / 1000, rtol=0.011)
    np.testing.assert_allclose(cams["2"]["c"], 500 * SIZE / 1000, atol=2 * SIZE / 1000 + 1e-9)
    joints = _json(root, 9, "joint_3d")
    assert sorted(joints["2"]["1"], key=int) == ["0", "32", "64"] and np.shape(joints["2"]["1"]["64"]) == (17, 3)


def test_reader_geometry_matches_3dmppe_formulas(root):
    """keypoints_cam = R (X_world - t) and keypoints_img = X / Z f + c, computed here with numpy from the
    three JSON files (3DMPPE world2cam / cam2pixel); back-projection with the true depth and
    camera_to_world return the world joints to 1e-3 mm (PartAwarePose card check 5)."""
    records = human36m.load_human36m(root, [9], sampling=1)
    assert len(records) == 12 and sum(records.skipped.values()) == 0
    cams, joints = _json(root, 9, "camera"), _json(root, 9, "joint_3d")
    for n in range(len(records)):
        meta = {k: int(v[n]) for k, v in records.metadata.items()}
        cam = {k: np.asarray(v, np.float64) for k, v in cams[str(meta["cam_idx"])].items()}
        world = np.asarray(joints[str(meta["action_idx"])][str(meta["subaction_idx"])][str(meta["frame_idx"])])
        expect_cam = (world - cam["t"]) @ cam["R"].T
        expect_img = expect_cam[:, :2] / expect_cam[:, 2:] * cam["f"] + cam["c"]
        np.testing.assert_allclose(records.people["keypoints_cam"][n, 0], expect_cam, rtol=1e-6, atol=1e-3)
        np.testing.assert_allclose(records.people["keypoints_img"][n, 0], expect_img, atol=1e-3)
        np.testing.assert_array_equal(records.focal[n], np.float32(cam["f"]))
        np.testing.assert_array_equal(records.center[n], np.float32(cam["c"]))
        back = camera.back_project(expect_img, expect_cam[:, 2], cam["f"], cam["c"])
        np.testing.assert_allclose(ops.convert_to_numpy(camera.camera_to_world(back, cam["R"], cam["t"])), world,
                                   atol=1e-3)
        # the drawn person is upright: head above the ankles in every view
        kp = records.people["keypoints_img"][n, 0]
        assert kp[10, 1] < kp[0, 1] < min(kp[3, 1], kp[6, 1])


def test_subject_and_frame_sampling(root):
    records = human36m.load_human36m(root, [1, 9], sampling=64)
    assert sorted(set(records.metadata["frame_idx"].tolist())) == [0, 64]
    assert len(records) == 2 * 4 * 2 and set(records.metadata["subject"].tolist()) == {1, 9}
    assert set(records.metadata["cam_idx"].tolist()) == {1, 2, 3, 4}
    only9 = human36m.load_human36m(root, [9], sampling=64)
    assert set(only9.metadata["subject"].tolist()) == {9} and len(only9) == 8
    crop = next(iter(mppe3d.person_crops(only9, input_size=32)))  # top-down crops of the same records
    back = camera.back_project(crop["keypoints_img"].numpy().astype(np.float64),
                               crop["keypoints_cam"].numpy()[:, 2].astype(np.float64),
                               crop["focal"].numpy().astype(np.float64), crop["center"].numpy().astype(np.float64))
    np.testing.assert_allclose(ops.convert_to_numpy(back), crop["keypoints_cam"].numpy(), atol=0.05)
    ex = next(iter(human36m.human36m_dataset(root, [9], sampling=64)))
    assert ex["image"].shape == (SIZE, SIZE, 3) and ex["keypoints_cam"].shape == (1, 17, 3)
    assert int(ex["subject"]) == 9 and int(ex["frame_idx"]) % 64 == 0 and bool(ex["person_mask"][0])


def test_bad_records_are_skipped_and_counted(tmp_path, root):
    copy = str(tmp_path / "h36m")
    shutil.copytree(root, copy)
    annot = os.path.join(copy, "annotations")
    joints = _json(copy, 9, "joint_3d")
    del joints["2"]["1"]["32"]  # 4 views of frame 32 lose their joints
    data = _json(copy, 9, "data")
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] != data["images"][0]["id"]]
    os.remove(os.path.join(copy, "images", data["images"][-1]["file_name"]))
    for kind, value in (("joint_3d", joints), ("data", data)):
        with open(human36m.annotation_path(annot, 9, kind), "w") as f:
            json.dump(value, f)
    records = human36m.load_human36m(copy, [9])
    assert {k: v for k, v in records.skipped.items() if v} == dict(no_joints=4, no_annotation=1, missing_image=1)
    assert len(records) == 12 - 6


def test_a_missing_field_or_file_is_one_error_naming_it(tmp_path, root):
    copy = str(tmp_path / "h36m")
    shutil.copytree(root, copy)
    cams = _json(copy, 9, "camera")
    del cams["3"]["f"]
    path = human36m.annotation_path(os.path.join(copy, "annotations"), 9, "camera")
    with open(path, "w") as f:
        json.dump(cams, f)
    with pytest.raises(human36m.Human36MFormatError) as err:
        human36m.load_human36m(copy, [9])
    assert str(err.value).startswith(f"{path}: camera '3' field 'f'") and "\n" not in str(err.value)
    with pytest.raises(PathNotFoundError, match="Human36M_subject5_data.json: annotation file not found"):
        human36m.load_human36m(copy, [5])
    data = _json(copy, 1, "data")
    for img in data["images"]:
        del img["frame_idx"]
    path = human36m.annotation_path(os.path.join(copy, "annotations"), 1, "data")
    with open(path, "w") as f:
        json.dump(data, f)
    with pytest.raises(human36m.Human36MFormatError, match="images have no 'frame_idx' field"):
        human36m.load_human36m(copy, [1])

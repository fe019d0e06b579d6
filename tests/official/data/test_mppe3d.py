"""3DMPPE JSON writer + reader: exact round trip, skipped bad records, one-line schema errors, person crops."""

from __future__ import annotations

import json
import os
from unittest import mock

import numpy as np
import pytest
from keras import ops

from official.core.errors import PathNotFoundError
from official.data import humans3d, mppe3d
from official.data.skeletons3d import MUCO_21
from official.ops import camera

SIZE = 64


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("mppe3d"))
    scenes = [humans3d.scene(np.random.default_rng(i), MUCO_21, people=(2, 3), image_size=(SIZE, SIZE))
              for i in range(3)]
    path = mppe3d.write_mppe3d(out, "train", scenes, image_format="png")
    return out, path, scenes


def _copy(tmp_path, path, edit):
    with open(path) as f:
        data = json.load(f)
    edit(data)
    new = str(tmp_path / "edited.json")
    with open(new, "w") as f:
        json.dump(data, f)
    return new


def test_round_trip_is_exact(written):
    """What the writer got comes back from tf.data unchanged (float32 of the written float64 values):
    f and c per image, keypoints_cam / keypoints_img / keypoints_vis per person, boxes as x1 y1 x2 y2."""
    out, path, scenes = written
    with open(path) as f:
        data = json.load(f)
    assert set(data["images"][0]) == {"id", "file_name", "width", "height", "f", "c"}
    assert {"bbox", "keypoints_cam", "keypoints_img", "keypoints_vis", "is_valid"} <= set(data["annotations"][0])
    examples = list(mppe3d.mppe3d_dataset(path, os.path.join(out, "images"), max_people=4))
    assert len(examples) == 3
    for ex, sc in zip(examples, scenes, strict=True):
        ex = {k: v.numpy() for k, v in ex.items()}
        np.testing.assert_array_equal(ex["image"], sc["image"])  # PNG: lossless
        np.testing.assert_array_equal(ex["focal"], np.float32(sc["f"]))
        np.testing.assert_array_equal(ex["center"], np.float32(sc["c"]))
        np.testing.assert_array_equal(ex["image_size"], [SIZE, SIZE])
        n = len(sc["people"])
        assert ex["num_people"] == n and ex["person_mask"].tolist() == [True] * n + [False] * (4 - n)
        for p, person in enumerate(sc["people"]):
            np.testing.assert_array_equal(ex["keypoints_cam"][p], np.float32(person["keypoints_cam"]))
            np.testing.assert_array_equal(ex["keypoints_img"][p], np.float32(person["keypoints_img"]))
            np.testing.assert_array_equal(ex["keypoints_vis"][p], person["keypoints_vis"])
            x, y, w, h = person["bbox"]
            np.testing.assert_array_equal(ex["boxes"][p], np.float32([x, y, x + w, y + h]))
        assert not ex["keypoints_cam"][n:].any() and not ex["boxes"][n:].any()
        # What a model sees is consistent: the 2D joints are the projection with THIS image's intrinsics.
        proj = ops.convert_to_numpy(camera.project(ex["keypoints_cam"][:n], ex["focal"], ex["center"]))
        np.testing.assert_allclose(proj, ex["keypoints_img"][:n], atol=1e-3)


def test_mupots_intrinsic_field(tmp_path, written):
    """MuPoTS-3D.json stores intrinsic [fx, fy, cx, cy]; it reads as the same f and c."""
    out, path, scenes = written

    def to_intrinsic(data):
        for img in data["images"]:
            img["intrinsic"] = img.pop("f") + img.pop("c")

    records = mppe3d.load_mppe3d(_copy(tmp_path, path, to_intrinsic), os.path.join(out, "images"))
    np.testing.assert_array_equal(records.focal, np.float32([sc["f"] for sc in scenes]))
    np.testing.assert_array_equal(records.center, np.float32([sc["c"] for sc in scenes]))


def test_bad_records_are_skipped_and_counted(tmp_path, written):
    out, path, _ = written

    def spoil(data):
        anns = data["annotations"]
        anns[0]["keypoints_cam"] = anns[0]["keypoints_cam"][:-1]  # 20 joints instead of 21
        anns[1]["keypoints_cam"][3][2] = -5.0  # behind the camera
        anns[2]["is_valid"] = 0
        anns[3]["bbox"][2] = 0.0
        anns[4]["image_id"] = 999
        data["images"].append(dict(data["images"][0], id=50, file_name="train/missing.png"))
        data["images"].append(dict(data["images"][0], id=51, f=[0.0, 100.0]))  # a zero focal length

    with mock.patch.object(mppe3d.logging, "warning") as warn:
        records = mppe3d.load_mppe3d(_copy(tmp_path, path, spoil), os.path.join(out, "images"))
    assert records.num_joints == 21
    skipped = {k: v for k, v in records.skipped.items() if v}
    no_people = skipped.pop("no_people", 0)  # an image whose every annotation was bad
    assert skipped == dict(bad_keypoints=2, not_valid=1, bad_bbox=1, unknown_image=1, bad_intrinsics=1,
                           missing_image=1)
    assert len(records) == 3 - no_people and records.num_people.sum() == len(written[2][0]["people"]) + len(
        written[2][1]["people"]) + len(written[2][2]["people"]) - 5
    summary = [c for c in warn.call_args_list if "skipped" in c.args[0]]
    assert len(summary) == 1 and "bad_keypoints=2" in summary[0].args[2]


@pytest.mark.parametrize("edit, field", [
    (lambda d: [a.pop("keypoints_cam") for a in d["annotations"]], "'keypoints_cam'"),
    (lambda d: [a.pop("keypoints_img") for a in d["annotations"]], "'keypoints_img'"),
    (lambda d: [(i.pop("f"), i.pop("c")) for i in d["images"]], "'f' or 'intrinsic'"),
    (lambda d: d.pop("annotations"), "'annotations'"),
])
def test_a_missing_field_is_one_error_naming_it(tmp_path, written, edit, field):
    out, path, _ = written
    bad = _copy(tmp_path, path, edit)
    with pytest.raises(mppe3d.Mppe3dFormatError) as err:
        mppe3d.load_mppe3d(bad, os.path.join(out, "images"))
    message = str(err.value)
    assert message.startswith(f"{bad}:") and field in message and "\n" not in message
    with pytest.raises(PathNotFoundError, match="nope.json: annotation file not found"):
        mppe3d.load_mppe3d(str(tmp_path / "nope.json"), os.path.join(out, "images"))


def test_more_people_than_max_keeps_the_first(written):
    out, path, scenes = written
    records = mppe3d.load_mppe3d(path, os.path.join(out, "images"), max_people=2)
    counts = [len(sc["people"]) for sc in scenes]
    assert records.num_people.tolist() == [min(c, 2) for c in counts]
    assert records.over_max_people == [i for i, c in enumerate(counts) if c > 2] != []


def test_person_crops_keep_geometry(written):
    """A crop is a similarity of the image; its f, c make project() land on the crop's keypoints, so
    back-projection with the true depth returns keypoints_cam; and the pixels under a visible joint are
    the person's (the joint discs are several pixels wide)."""
    out, path, scenes = written
    crops = list(mppe3d.mppe3d_person_crops(path, os.path.join(out, "images"), input_size=48))
    assert len(crops) == sum(len(sc["people"]) for sc in scenes)
    people = [(sc, p) for sc in scenes for p in sc["people"]]
    checked = 0
    for crop, (sc, person) in zip(crops, people, strict=True):
        c = {k: v.numpy() for k, v in crop.items()}
        assert c["image"].shape == (48, 48, 3)
        cam = c["keypoints_cam"].astype(np.float64)
        back = ops.convert_to_numpy(camera.back_project(c["keypoints_img"].astype(np.float64), cam[:, 2],
                                                        c["focal"].astype(np.float64),
                                                        c["center"].astype(np.float64)))
        np.testing.assert_allclose(back, cam, atol=0.05)  # float32 crop intrinsics; mm
        x1, y1, x2, y2 = c["box"]
        scale = 48 / (max(x2 - x1, y2 - y1) * 1.25)
        np.testing.assert_allclose(c["focal"], np.float32(sc["f"]) * scale, rtol=1e-5)
        for j in np.flatnonzero(person["keypoints_vis"]):
            u, v = np.round(c["keypoints_img"][j]).astype(int)
            su, sv = np.round(person["keypoints_img"][j]).astype(int)
            if 0 <= u < 48 and 0 <= v < 48:
                diff = np.abs(c["image"][v, u].astype(int) - sc["image"][sv, su].astype(int)).max()
                checked += diff <= 40
    assert checked >= 10

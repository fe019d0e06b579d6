"""FPHA reader on the spec's fixture (2 subjects x 2 actions x 1 sequence of 10 frames, written in the real
layout): skeleton and split parsing, world -> camera -> pixel projection against a hand-computed pinhole
with FPHA's README extrinsics (cam = R X + t), the crop's intrinsics, bad records, weak-label masks
(spec "Checks" 1 and the fixture's weak-label masking)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from official.core.errors import PathNotFoundError
from official.data import fpha


@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("fpha") / "FPHA")
    written = fpha.write_fixture(root, frames=10)
    return root, written


def _pinhole(world, focal, center):
    """The README's recipe by hand: cam = [R | t] [X; 1], u = fx X / Z + u0, v = fy Y / Z + v0."""
    extr = np.concatenate([np.asarray(fpha.CAM_ROTATION), np.asarray(fpha.CAM_TRANSLATION)[:, None]], 1)
    hom = np.concatenate([world, np.ones((*world.shape[:-1], 1))], -1)
    cam = hom @ extr.T
    return cam, np.stack([focal[0] * cam[..., 0] / cam[..., 2] + center[0],
                          focal[1] * cam[..., 1] / cam[..., 2] + center[1]], -1)


def test_skeleton_and_split_parse(fixture_root):
    root, written = fixture_root
    frames, joints = fpha.read_skeleton(os.path.join(root, "Hand_pose_annotation_v1/Subject_1/pour_milk/1/skeleton.txt"))
    assert joints.shape == (10, 21, 3) and list(frames) == list(range(10))
    np.testing.assert_allclose(joints, written["Subject_1/pour_milk/1"], atol=1e-3)
    with open(os.path.join(root, "Hand_pose_annotation_v1/Subject_1/pour_milk/1/skeleton.txt")) as f:
        assert all(len(line.split()) == 64 for line in f)
    split = fpha.read_split(os.path.join(root, fpha.SPLIT_FILE))
    assert split == {"train": [("Subject_1/open_juice_bottle/1", 0), ("Subject_1/pour_milk/1", 1)],
                     "test": [("Subject_2/open_juice_bottle/1", 0), ("Subject_2/pour_milk/1", 1)]}
    seqs, skipped = fpha.list_sequences(root, "test")
    assert [s.name for s in seqs] == ["Subject_2/open_juice_bottle/1", "Subject_2/pour_milk/1"] and not skipped
    assert len(seqs[0].frames) == 10 and seqs[0].frames[3].endswith("color/color_0003.jpeg")


def test_projection_equals_hand_pinhole_and_crop_intrinsics(fixture_root):
    root, written = fixture_root
    seqs, _ = fpha.list_sequences(root, "train")
    # fixture intrinsics: a 64 x 48 camera (the fixture's JPEG size), not FPHA's 1920 x 1080 one
    focal, center = (52.0, 50.0), (31.5, 23.5)
    ds = fpha.fpha_clips(seqs[:1], num_frames=10, image_size=32, training=False, focal=focal, center=center)
    clip, y = next(iter(ds))
    cam, uv = _pinhole(written[seqs[0].name].astype(np.float64), focal, center)
    np.testing.assert_allclose(y["joints_cam"].numpy(), cam, atol=1e-2)
    # joints_uv live in the crop; the crop's intrinsics project the same camera points onto them
    f_crop, c_crop = y["focal"].numpy(), y["center"].numpy()
    reproj = np.stack([f_crop[0] * cam[..., 0] / cam[..., 2] + c_crop[0],
                       f_crop[1] * cam[..., 1] / cam[..., 2] + c_crop[1]], -1)
    np.testing.assert_allclose(y["joints_uv"].numpy(), reproj, atol=1e-3)
    # the crop is the padded box of all joints of the clip: an affine map of the full-frame pixels
    scale = f_crop[0] / focal[0]
    np.testing.assert_allclose(y["joints_uv"].numpy(), c_crop + scale * (uv - np.asarray(center)), atol=1e-3)
    lo, hi = y["joints_uv"].numpy().reshape(-1, 2).min(0), y["joints_uv"].numpy().reshape(-1, 2).max(0)
    assert lo.min() > 0 and hi.max() < 31 and clip.shape == (10, 32, 32, 3)


def test_crop_samples_the_right_pixels(tmp_path):
    """A bright dot drawn at a joint's full-frame pixel is bright in the crop at joints_uv."""
    root = str(tmp_path / "dots")
    focal, center = (60.0, 60.0), (39.5, 29.5)
    rng = np.random.default_rng(1)
    cam = rng.normal(0, 30, (3, 21, 3)) + [0, 0, 300.0]
    world = fpha.world_from_camera(cam)
    _, uv = _pinhole(world.astype(np.float64), focal, center)
    images = []
    for t in range(3):
        im = np.zeros((60, 80, 3), np.uint8)
        u, v = np.round(uv[t, 5]).astype(int)
        im[max(v - 2, 0): v + 3, max(u - 2, 0): u + 3] = 255
        images.append(im)
    fpha.write_sequence(root, "Subject_1/a/1", images, world)
    fpha.write_split(root, {"train": [("Subject_1/a/1", 0)], "test": []})
    seqs, _ = fpha.list_sequences(root, "train")
    clip, y = next(iter(fpha.fpha_clips(seqs, 3, 64, False, focal=focal, center=center, crop_padding=0.1)))
    for t in range(3):
        u, v = np.round(y["joints_uv"].numpy()[t, 5]).astype(int)
        assert clip.numpy()[t, v, u].mean() > 150, (t, u, v)


def test_bad_records_skipped_and_counted(tmp_path, caplog):
    root = str(tmp_path / "FPHA")
    fpha.write_fixture(root, frames=4)
    os.remove(os.path.join(root, "Hand_pose_annotation_v1/Subject_1/pour_milk/1/skeleton.txt"))
    with open(os.path.join(root, "Hand_pose_annotation_v1/Subject_2/pour_milk/1/skeleton.txt"), "a") as f:
        f.write("4 1 2 3\n")
    with open(os.path.join(root, "Hand_pose_annotation_v1/Subject_2/open_juice_bottle/1/skeleton.txt"), "w") as f:
        f.write("0 " + " ".join(["1"] * 63) + "\n")  # 1 line for 4 frames
    train, skipped_train = fpha.list_sequences(root, "train")
    test, skipped_test = fpha.list_sequences(root, "test")
    assert [s.name for s in train] == ["Subject_1/open_juice_bottle/1"] and skipped_train == {"no_skeleton": 1}
    assert test == [] and skipped_test == {"bad_skeleton": 1, "short_skeleton": 1}
    assert "line 5: expected 64 numbers" in caplog.text


def test_wrong_paths_and_fields_name_the_file(tmp_path):
    with pytest.raises(PathNotFoundError, match="no FPHA root"):
        fpha.list_sequences(str(tmp_path / "nope"), "train")
    root = str(tmp_path / "F")
    os.makedirs(os.path.join(root, "Hand_pose_annotation_v1"))
    with pytest.raises(PathNotFoundError, match="data_split_action_recognition.txt"):
        fpha.list_sequences(root, "train")
    with open(os.path.join(root, fpha.SPLIT_FILE), "w") as f:
        f.write("Training 1\nSubject_1/x/1 seven\n")
    with pytest.raises(fpha.FphaFormatError, match=r"data_split_action_recognition.txt: line 2: field 'label'"):
        fpha.list_sequences(root, "train")


def test_weak_label_masks(fixture_root):
    root, _ = fixture_root
    seqs, _ = fpha.list_sequences(root, "train")
    seqs = seqs * 20  # 40 clip sources
    full = [y for _, y in fpha.fpha_clips(seqs, 2, 16, False)]
    assert all(float(y["has_label"]) == 1.0 and float(y["has_pose"]) == 1.0 for y in full)
    ds = fpha.fpha_clips(seqs, 2, 16, False, label_fraction=0.5, pose_fraction=0.0)
    masks = [(float(y["has_label"]), float(y["has_pose"])) for _, y in ds]
    labels = np.array([m[0] for m in masks])
    assert 0.2 < labels.mean() < 0.8 and set(labels) == {0.0, 1.0}
    assert all(m[1] == 0.0 for m in masks)
    again = [float(y["has_label"]) for _, y in fpha.fpha_clips(seqs, 2, 16, False, label_fraction=0.5)]
    assert again == list(labels)  # deterministic per sequence

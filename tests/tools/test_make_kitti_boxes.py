"""tools/make_kitti_boxes.py: a KITTI-layout synthetic set the KITTI reader accepts, with labels that agree
with the camera, written deterministically and atomically."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from official.core.errors import UserError
from official.data import kitti, mono3d_augment
from official.data.kitti_format import read_calib_file, read_label_file, read_split
from official.data.kitti_geometry import alpha_from_rotation_y, box2d_from_3d
from tools import make_kitti_boxes as mkb

W, H = 448, 136


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("gen") / "kb")
    counts = mkb.write_kitti_boxes(out, num_train=8, num_val=3, seed=3, width=W, height=H)
    return out, counts


def _files(root):
    found = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = f.read()
    return found


def test_layout_and_reader(generated):
    out, counts = generated
    assert sorted(os.listdir(out)) == ["ImageSets", "training"]
    assert read_split(os.path.join(out, "ImageSets", "train.txt")) == [f"{i:06d}" for i in range(8)]
    assert read_split(os.path.join(out, "ImageSets", "val.txt")) == ["000008", "000009", "000010"]
    assert len(read_split(os.path.join(out, "ImageSets", "trainval.txt"))) == 11
    assert not [n for n in os.listdir(os.path.dirname(out)) if ".tmp-" in n or ".old-" in n]
    train = kitti.load_kitti_records(out, "train")
    val = kitti.load_kitti_records(out, "val")
    assert len(train) == 8 and len(val) == 3 and not any(train.skipped.values())
    assert int(train.num_objects.sum() + val.num_objects.sum()) == sum(counts[c] for c in mkb.CLASSES)
    assert counts["DontCare"] > 0
    ex = next(iter(kitti.kitti_dataset(train).take(1)))
    assert ex["image"].shape == (H, W, 3) and ex["image"].numpy().std() > 10
    p2 = train.P2[0]
    np.testing.assert_allclose(p2[0, 0], 721.5377 * W / 1242, rtol=1e-6)
    np.testing.assert_allclose(p2[:2, 2], [609.5593 * W / 1242, 172.854 * H / 375], rtol=1e-6)
    np.testing.assert_allclose(p2[0, 3], 44.85728 * W / 1242, rtol=1e-6)
    # the generated frames go through the KM3D input transform
    batch = mono3d_augment.mono3d_dataset(
        kitti.kitti_dataset(train), training=True, seed=0, input_size=(64, 224)
    )
    out = next(iter(batch.batch(4)))
    assert out["image"].shape == (4, 64, 224, 3) and out["P2"].shape == (4, 3, 4)


def test_labels_agree_with_the_camera(generated):
    out, _ = generated
    classes_seen, occlusions, truncated_seen = set(), set(), False
    for i in range(11):
        p2 = read_calib_file(os.path.join(out, "training", "calib", f"{i:06d}.txt"))["P2"]
        objects = read_label_file(os.path.join(out, "training", "label_2", f"{i:06d}.txt"))
        assert 1 <= sum(o.type != "DontCare" for o in objects) <= 4
        for obj in objects:
            if obj.type == "DontCare":
                assert obj.location == (-1000.0, -1000.0, -1000.0)
                left, top, right, bottom = obj.box2d
                assert 0 <= left < right <= W - 1 and 0 <= top < bottom <= H - 1 and bottom - top < 20
                continue
            classes_seen.add(obj.type)
            occlusions.add(obj.occluded)
            x, y, z = obj.location
            assert y == pytest.approx(1.65) and 6.0 <= z <= 35.0
            assert np.cos(obj.alpha - alpha_from_rotation_y(obj.rotation_y, x, z)) == pytest.approx(
                1.0, abs=1e-9
            )
            mean = np.array(mkb.MEAN_DIMS[obj.type])
            assert np.all(np.abs(np.array(obj.dimensions) / mean - 1) <= 0.151)
            full = box2d_from_3d(obj.dimensions, obj.location, obj.rotation_y, p2)
            clipped = box2d_from_3d(obj.dimensions, obj.location, obj.rotation_y, p2, (H, W))
            np.testing.assert_allclose(obj.box2d, clipped, atol=1e-3)
            if obj.truncated == 0:
                np.testing.assert_allclose(obj.box2d, full, atol=1e-3)  # untruncated: the whole extent
            else:
                truncated_seen = True
                area = (full[2] - full[0]) * (full[3] - full[1])
                inside = (clipped[2] - clipped[0]) * (clipped[3] - clipped[1])
                assert obj.truncated == pytest.approx(1 - inside / area, abs=0.006)
    assert classes_seen == set(mkb.CLASSES) and truncated_seen and {0, 1} <= occlusions


def _overlap(a, b):
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def test_occlusion_follows_nearer_objects():
    rng = np.random.default_rng(0)
    levels = set()
    for _ in range(40):
        pixels, labels, calib = mkb.render_frame(W, H, rng)
        assert pixels.shape == (H, W, 3) and pixels.dtype == np.uint8
        eye = mkb.camera_centre(calib["P2"])
        real = [o for o in labels if o.type != "DontCare"]
        for obj in real:
            dist = np.linalg.norm(np.array(obj.location) - eye)
            covering = [o for o in real if np.linalg.norm(np.array(o.location) - eye) < dist
                        and _overlap(o.box2d, obj.box2d)]  # fmt: skip
            levels.add(obj.occluded)
            if not covering:
                assert obj.occluded == 0, obj
    assert levels == {0, 1, 2}


def test_deterministic_atomic_and_overwrite(generated, tmp_path):
    out, _ = generated
    again = str(tmp_path / "again")
    mkb.write_kitti_boxes(again, num_train=8, num_val=3, seed=3, width=W, height=H)
    assert _files(out) == _files(again)
    with pytest.raises(UserError, match="already exists"):
        mkb.write_kitti_boxes(again, num_train=2, num_val=0, seed=4, width=W, height=H)
    mkb.write_kitti_boxes(again, num_train=2, num_val=0, seed=4, width=W, height=H, overwrite=True)
    replaced = _files(again)
    assert "training/label_2/000002.txt" not in replaced
    assert replaced["training/label_2/000000.txt"] != _files(out)["training/label_2/000000.txt"]
    assert sorted(os.listdir(tmp_path)) == ["again"]


def test_cli(tmp_path):
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "tools.make_kitti_boxes", f"--out={out}", "--num_train=2", "--num_val=1",
           "--width=200", "--height=60"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and "3/3 frames" in done.stderr
    assert len(os.listdir(out / "training" / "image_2")) == 3
    again = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_max_depth_bounds_the_objects(tmp_path):
    out = str(tmp_path / "near")
    mkb.write_kitti_boxes(out, num_train=6, num_val=0, seed=1, width=W, height=H, max_depth=12.0)
    depths = [o.location[2] for i in range(6) for o in read_label_file(os.path.join(out, "training", "label_2", f"{i:06d}.txt"))
              if o.type != "DontCare"]
    assert depths and max(depths) <= 12.0 + 1e-6
    with pytest.raises(Exception, match="max_depth"):
        mkb.write_kitti_boxes(str(tmp_path / "bad"), num_train=1, num_val=0, max_depth=3.0)

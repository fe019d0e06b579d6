"""COLMAP text reader: round trip of the DRV fixture writer, poses vs scipy, PNG decoding, errors naming
file / line / field, missing images skipped."""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from official.data import colmap
from research.three_d.drv import synthetic


def _write(root, n=3):
    rots, trans, centres = synthetic.orbit_cameras(n, seed=1)
    intr = synthetic.intrinsics(32)
    names = [f"img_{k}.png" for k in range(n)]
    colmap.write_colmap_text(str(root), rots, trans, np.tile(intr, (n, 1)), (32, 40), names)
    return rots, trans, centres, intr, names


def test_round_trip_and_poses_match_scipy(tmp_path):
    rots, trans, centres, intr, names = _write(tmp_path)
    scene = colmap.load_colmap_scene(str(tmp_path))
    assert list(scene["names"]) == names
    np.testing.assert_allclose(scene["rotation"], rots, atol=1e-12)
    np.testing.assert_allclose(scene["translation"], trans, atol=1e-12)
    np.testing.assert_allclose(scene["intrinsics"], np.tile(intr, (3, 1)))
    np.testing.assert_array_equal(scene["size"], [[32, 40]] * 3)
    np.testing.assert_allclose(scene["light"], centres, atol=1e-12)  # collocated: light = camera centre
    recs = colmap.read_images_text(str(tmp_path / "images.txt"))
    q = np.array([recs[k + 1].qvec for k in range(3)])
    ref = Rotation.from_quat(q, scalar_first=True).as_matrix()
    np.testing.assert_allclose(scene["rotation"], ref, atol=1e-12)


def test_hand_written_file_with_points_and_simple_pinhole(tmp_path):
    (tmp_path / "cameras.txt").write_text("# c\n7 SIMPLE_PINHOLE 640 480 500 320 240\n")
    (tmp_path / "images.txt").write_text(
        "# header\n1 0.7071067811865476 0 0.7071067811865476 0 1 2 3 7 my image.png\n10.5 20.5 -1 3 4 12\n"
        "2 1 0 0 0 0 0 0 7 b.png\n\n")
    scene = colmap.load_colmap_scene(str(tmp_path))
    assert list(scene["names"]) == ["b.png", "my image.png"]  # names may contain spaces
    np.testing.assert_allclose(scene["intrinsics"][0], [500, 500, 320, 240])
    ref = Rotation.from_quat([0.7071067811865476, 0, 0.7071067811865476, 0], scalar_first=True).as_matrix()
    np.testing.assert_allclose(scene["rotation"][1], ref, atol=1e-12)
    np.testing.assert_allclose(scene["light"][1], -ref.T @ np.array([1.0, 2, 3]), atol=1e-12)


@pytest.mark.parametrize("cams,imgs,match", [
    ("1 PINHOLE 64 64 50 50 32\n", None, r"cameras.txt:1: field PARAMS: PINHOLE takes 4"),
    ("1 PINHOLE 64 sixty 50 50 32 32\n", None, r"cameras.txt:1: field HEIGHT: cannot read 'sixty'"),
    ("1 WEIRD 64 64 1\n", None, r"cameras.txt:1: field MODEL"),
    (None, "# c\n1 1 0 0 x 0 0 0 1 a.png\n\n", r"images.txt:2: field QZ: cannot read 'x'"),
    (None, "1 1 0 0 0 0 0 0 9 a.png\n\n", r"images.txt: image a.png: field CAMERA_ID: 9"),
    (None, "1 1 0 0 0 0 0 a.png\n", r"images.txt:1: expected IMAGE_ID"),
    ("1 OPENCV 64 64 50 50 32 32 0 0 0 0\n", None, r"field MODEL: OPENCV has distortion"),
])
def test_errors_name_file_line_and_field(tmp_path, cams, imgs, match):
    (tmp_path / "cameras.txt").write_text(cams or "1 PINHOLE 64 64 50 50 32 32\n")
    (tmp_path / "images.txt").write_text(imgs or "1 1 0 0 0 0 0 0 1 a.png\n\n")
    with pytest.raises(colmap.ColmapFormatError, match=match):
        colmap.load_colmap_scene(str(tmp_path))


def test_missing_path_is_user_error(tmp_path):
    with pytest.raises(colmap.PathNotFoundError, match="cameras.txt: COLMAP file not found"):
        colmap.load_colmap_scene(str(tmp_path / "nope"))


def test_dataset_decodes_16bit_png_and_skips_missing(tmp_path, caplog):
    import tensorflow as tf

    rots, trans, centres, intr, names = _write(tmp_path)
    os.makedirs(tmp_path / "images")
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 65536, size=(2, 32, 40, 3), dtype=np.uint16)
    for name, px in zip(names[:2], pixels, strict=False):  # names[2] is missing
        tf.io.write_file(str(tmp_path / "images" / name), tf.io.encode_png(px))
    ds, n = colmap.colmap_image_dataset(str(tmp_path))
    items = list(ds.as_numpy_iterator())
    assert n == 2 and len(items) == 2 and "1 of 3 images missing" in caplog.text
    np.testing.assert_allclose(items[1]["image"], pixels[1] / 65535.0, atol=1e-7)
    np.testing.assert_allclose(items[1]["rotation"], rots[1], atol=1e-6)
    np.testing.assert_allclose(items[0]["light"], centres[0], atol=1e-5)
    assert items[0]["name"] == b"img_0.png"

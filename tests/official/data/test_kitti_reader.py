"""KITTI monocular-3D reader (official/data/kitti.py) on a fixture in the object benchmark's real format."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from official.core.errors import PathNotFoundError
from official.data import kitti

# KITTI frame 000000's P2 (the values of the object benchmark's calib files).
P2 = np.array(
    [[721.5377, 0.0, 609.5593, 44.85728], [0.0, 721.5377, 172.854, 0.2163791], [0.0, 0.0, 1.0, 0.002745884]]
)
CALIB = (
    "P0: 7.215377e+02 0.000000e+00 6.095593e+02 0.000000e+00 0.000000e+00 7.215377e+02 1.728540e+02 "
    "0.000000e+00 0.000000e+00 0.000000e+00 1.000000e+00 0.000000e+00\n"
    "P1: 7.215377e+02 0.000000e+00 6.095593e+02 -3.875744e+02 0.000000e+00 7.215377e+02 1.728540e+02 "
    "0.000000e+00 0.000000e+00 0.000000e+00 1.000000e+00 0.000000e+00\n"
    "P2: 7.215377e+02 0.000000e+00 6.095593e+02 4.485728e+01 0.000000e+00 7.215377e+02 1.728540e+02 "
    "2.163791e-01 0.000000e+00 0.000000e+00 1.000000e+00 2.745884e-03\n"
    "P3: 7.215377e+02 0.000000e+00 6.095593e+02 -3.395242e+02 0.000000e+00 7.215377e+02 1.728540e+02 "
    "2.199936e+00 0.000000e+00 0.000000e+00 1.000000e+00 2.729905e-03\n"
    "R0_rect: 9.999239e-01 9.837760e-03 -7.445048e-03 -9.869795e-03 9.999421e-01 -4.278459e-03 "
    "7.402527e-03 4.351614e-03 9.999631e-01\n"
    "Tr_velo_to_cam: 7.533745e-03 -9.999714e-01 -6.166020e-04 -4.069766e-03 1.480249e-02 7.280733e-04 "
    "-9.998902e-01 -7.631618e-02 9.998621e-01 7.523790e-03 1.480755e-02 -2.717806e-01\n"
    "Tr_imu_to_velo: 9.999976e-01 7.553071e-04 -2.035826e-03 -8.086759e-01 -7.854027e-04 9.998898e-01 "
    "-1.482298e-02 3.195559e-01 2.024406e-03 1.482454e-02 9.998881e-01 -7.997231e-01\n"
)
LABELS = {
    "000001": (
        "Car 0.00 0 -1.56 564.62 174.59 616.43 224.74 1.61 1.66 3.20 -0.69 1.69 25.01 -1.59\n"
        "Pedestrian 0.00 1 0.21 423.17 173.67 433.17 224.03 1.87 0.50 0.90 -16.53 2.39 58.49 1.57\n"
        "DontCare -1 -1 -10 503.89 169.71 590.61 190.13 -1 -1 -1 -1000 -1000 -1000 -10\n"
    ),
    "000002": "Cyclist 0.30 2 1.20 10.00 150.00 80.00 250.00 1.70 0.60 1.80 -9.00 1.60 12.00 0.55\n",
    # malformed: a field that is not a number
    "000003": "Car 0.00 0 -1.56 564.62 174.59 616.43 224.74 1.61 abc 3.20 -0.69 1.69 25.01 -1.59\n",
}
SIZE = (384, 1280)  # (H, W)


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


@pytest.fixture(scope="module")
def kitti_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("kitti"))
    for name in ("image_2", "label_2", "calib", "ImageSets"):
        os.makedirs(os.path.join(root, name))
    rng = np.random.default_rng(0)
    for i, frame_id in enumerate(LABELS):
        _write(os.path.join(root, "label_2", f"{frame_id}.txt"), LABELS[frame_id])
        _write(os.path.join(root, "calib", f"{frame_id}.txt"), CALIB)
        if i < 2:
            pixels = rng.integers(0, 256, SIZE + (3,), dtype=np.uint8)
            Image.fromarray(pixels).save(os.path.join(root, "image_2", f"{frame_id}.png"))
    Image.fromarray(np.zeros(SIZE + (3,), np.uint8)).save(os.path.join(root, "image_2", "000003.png"))
    _write(os.path.join(root, "ImageSets", "train.txt"), "000001\n000002\n000003\n")
    return root


def _numpy_keypoints(dims, loc, ry, p2):
    """The 8 corners (KM3D order) and the 3D centre projected with P2, written out independently."""
    h, w, length = dims
    half = length / 2
    x = np.array([half, half, -half, -half, half, half, -half, -half, 0.0])
    y = np.array([0, 0, 0, 0, -h, -h, -h, -h, -h / 2])
    z = np.array([w / 2, -w / 2, -w / 2, w / 2, w / 2, -w / 2, -w / 2, w / 2, 0.0])
    c, s = np.cos(ry), np.sin(ry)
    pts = np.stack([c * x + s * z + loc[0], y + loc[1], -s * x + c * z + loc[2], np.ones(9)])
    uvw = p2 @ pts
    return (uvw[:2] / uvw[2]).T


def test_records_values_padding_and_skips(kitti_root):
    records = kitti.load_kitti_records(kitti_root, "train", max_objects=4)
    assert records.image_ids == ["000001", "000002"]
    assert records.skipped == {
        "missing_image": 0, "missing_label": 0, "missing_calib": 0, "bad_label": 1, "bad_calib": 0,
    }  # fmt: skip
    assert records.skipped_ids["bad_label"] == ["000003"]
    np.testing.assert_allclose(records.P2[0], P2, rtol=1e-6)
    obj = records.objects
    np.testing.assert_array_equal(records.num_objects, [2, 1])
    np.testing.assert_array_equal(obj["gt_classes"], [[0, 1, -1, -1], [2, -1, -1, -1]])  # DontCare dropped
    np.testing.assert_array_equal(obj["gt_valid"], [[1, 1, 0, 0], [1, 0, 0, 0]])
    np.testing.assert_allclose(obj["gt_boxes2d"][0, 0], [564.62, 174.59, 616.43, 224.74], rtol=1e-6)
    np.testing.assert_allclose(obj["gt_dimensions"][0, 1], [1.87, 0.50, 0.90], rtol=1e-6)
    np.testing.assert_allclose(obj["gt_locations"][1, 0], [-9.0, 1.6, 12.0], rtol=1e-6)
    np.testing.assert_allclose(obj["gt_rotation_y"][0, :2], [-1.59, 1.57], rtol=1e-6)
    np.testing.assert_allclose(obj["gt_alpha"][1, 0], 1.2, rtol=1e-6)
    np.testing.assert_allclose(obj["gt_truncated"][1, 0], 0.3, rtol=1e-6)
    np.testing.assert_array_equal(obj["gt_occluded"][0, :2], [0, 1])
    assert obj["gt_occluded"][1, 0] == 2
    for name in ("gt_boxes2d", "gt_dimensions", "gt_locations", "gt_rotation_y", "gt_alpha"):
        assert not obj[name][0, 2:].any() and not obj[name][1, 1:].any(), name


def test_dataset_schema_and_keypoints(kitti_root):
    records = kitti.load_kitti_records(kitti_root, "train", max_objects=4)
    examples = list(kitti.kitti_dataset(records).as_numpy_iterator())
    assert len(examples) == 2
    ex = examples[0]
    assert set(ex) == set(kitti.EXAMPLE_KEYS)
    assert ex["image"].dtype == np.uint8 and ex["image"].shape == SIZE + (3,)
    assert ex["image_id"] == b"000001"
    assert ex["image_size"].dtype == np.int32 and ex["image_size"].tolist() == list(SIZE)
    assert ex["P2"].dtype == np.float32 and ex["P2"].shape == (3, 4)
    expected = {
        "gt_classes": (np.int32, (4,)), "gt_boxes2d": (np.float32, (4, 4)), "gt_dimensions": (np.float32, (4, 3)),
        "gt_locations": (np.float32, (4, 3)), "gt_rotation_y": (np.float32, (4,)), "gt_alpha": (np.float32, (4,)),
        "gt_truncated": (np.float32, (4,)), "gt_occluded": (np.int32, (4,)), "gt_valid": (np.bool_, (4,)),
        "num_objects": (np.int32, ()),
    }  # fmt: skip
    for name, (dtype, shape) in expected.items():
        assert ex[name].dtype == dtype and ex[name].shape == shape, name
    with Image.open(os.path.join(kitti_root, "image_2", "000001.png")) as im:
        np.testing.assert_array_equal(ex["image"], np.asarray(im))
    # The 9 keypoints through kitti_geometry from the parsed P2/labels vs. the direct numpy projection.
    from official.data.kitti_geometry import box_keypoints_2d

    for k in range(int(ex["num_objects"])):
        dims, loc, ry = ex["gt_dimensions"][k], ex["gt_locations"][k], ex["gt_rotation_y"][k]
        ours = box_keypoints_2d(dims, loc, ry, ex["P2"])
        direct = _numpy_keypoints(
            np.float64(dims), np.float64(loc), float(ry), P2
        )  # the calib file's exact values
        np.testing.assert_allclose(ours, direct, atol=1e-4)
    # The Car's projected extent lies near its labelled 2D box (KITTI's boxes are tight, not exact).
    car = box_keypoints_2d(ex["gt_dimensions"][0], ex["gt_locations"][0], ex["gt_rotation_y"][0], ex["P2"])[
        :8
    ]
    np.testing.assert_allclose([*car.min(0), *car.max(0)], ex["gt_boxes2d"][0], atol=8.0)


def test_training_parent_layout_and_split_file(kitti_root, tmp_path):
    parent = tmp_path / "object"
    os.makedirs(parent / "ImageSets")
    os.symlink(kitti_root, parent / "training")
    _write(parent / "ImageSets" / "val.txt", "000002\n")
    records = kitti.load_kitti_records(str(parent), "val")
    assert records.image_ids == ["000002"] and records.root.endswith("training")
    listed = tmp_path / "mine.txt"
    _write(listed, "000001\n000004\n")  # 000004 has no files at all
    records = kitti.load_kitti_records(kitti_root, "ignored", image_set_file=str(listed))
    assert records.image_ids == ["000001"] and records.skipped["missing_image"] == 1


def test_bad_calib_skipped(kitti_root, tmp_path):
    root = tmp_path / "k"
    for name in ("image_2", "label_2", "calib", "ImageSets"):
        os.makedirs(root / name)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(root / "image_2" / "000000.png")
    _write(root / "label_2" / "000000.txt", LABELS["000002"])
    _write(root / "calib" / "000000.txt", "P2: 1 2 3\n")
    _write(root / "ImageSets" / "train.txt", "000000\n")
    records = kitti.load_kitti_records(str(root), "train")
    assert len(records) == 0 and records.skipped["bad_calib"] == 1
    with pytest.raises(ValueError, match="no usable frame"):
        kitti.kitti_dataset(records)


def test_missing_folder_and_split_named(kitti_root, tmp_path):
    root = tmp_path / "nolabels"
    for name in ("image_2", "calib", "ImageSets"):
        os.makedirs(root / name)
    with pytest.raises(PathNotFoundError, match=r"label_2: KITTI folder not found"):
        kitti.load_kitti_records(str(root), "train")
    with pytest.raises(PathNotFoundError, match=r"ImageSets/test\.txt"):
        kitti.load_kitti_records(kitti_root, "test")
    with pytest.raises(PathNotFoundError, match="nowhere"):
        kitti.load_kitti_records(str(tmp_path / "nowhere"), "train")

"""Taskonomy folders: frames paired by (point, view), 16-bit targets, masks, missing targets skipped."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from official.data import image_decode, taskonomy
from official.data.imagefolder import DatasetError

SIZE = 8


def _png(folder, point, view, domain, pixels) -> None:
    os.makedirs(folder, exist_ok=True)
    Image.fromarray(pixels).save(os.path.join(folder, f"point_{point}_view_{view}_domain_{domain}.png"))


def _building(root, name="allensville", mask=True) -> None:
    """RGB frames (0,0), (1,2), (10,1); depth for (1,2) and (10,1) only; masks for all three."""
    b = os.path.join(root, name)
    for k, (point, view) in enumerate([(0, 0), (1, 2), (10, 1)]):
        _png(os.path.join(b, "rgb"), point, view, "rgb", np.full((SIZE, SIZE, 3), 10 * (k + 1), np.uint8))
        if mask:
            m = np.full((SIZE, SIZE), 255, np.uint8)
            m[0, :] = 0
            _png(os.path.join(b, "mask_valid"), point, view, "mask_valid", m)
    for point, view, base in [(1, 2, 1000), (10, 1, 40000)]:
        depth = np.full((SIZE, SIZE), base, np.uint16)
        depth[2, 3] = 65535  # no depth
        depth[4, 5] = base + 300  # a value an 8-bit read would lose
        _png(os.path.join(b, "depth_zbuffer"), point, view, "depth_zbuffer", depth)


def test_frames_pair_by_point_and_view_with_16_bit_depth(tmp_path):
    _building(str(tmp_path))
    counter = image_decode.SkipCounter("t")
    ds = taskonomy.taskonomy_dataset(str(tmp_path), ["allensville"], "depth_zbuffer", image_size=SIZE, skipped=counter)
    frames = list(ds.as_numpy_iterator())
    assert counter.count == 1  # (0, 0) has no depth
    assert [os.path.basename(f["source"].decode()) for f in frames] == [
        "point_1_view_2_domain_rgb.png", "point_10_view_1_domain_rgb.png"]
    for frame, rgb_value, base in zip(frames, (20, 30), (1000, 40000), strict=True):
        assert frame["rgb"].shape == (SIZE, SIZE, 3) and np.all(frame["rgb"] == rgb_value)
        assert frame["target"].shape == (SIZE, SIZE, 1) and frame["target"].dtype == np.float32
        raw = np.round(frame["target"][..., 0] * 65535).astype(np.int64)
        assert raw[0, 0] == base and raw[4, 5] == base + 300 and raw[2, 3] == 65535
        mask = frame["mask"][..., 0]
        assert mask[0].sum() == 0 and mask[2, 3] == 0 and mask[1:].sum() == SIZE * (SIZE - 1) - 1


def test_resize_and_buildings_without_masks(tmp_path):
    _building(str(tmp_path), "a", mask=False)
    _building(str(tmp_path), "b", mask=True)
    frames, skipped = taskonomy.list_frames(str(tmp_path), ["a", "b"], "depth_zbuffer")
    assert skipped == 2 and [f.mask == "" for f in frames] == [True, True, False, False]
    ds = taskonomy.taskonomy_dataset(str(tmp_path), ["a"], "depth_zbuffer", image_size=4)
    frame = next(ds.as_numpy_iterator())
    assert frame["rgb"].shape == (4, 4, 3) and frame["target"].shape == (4, 4, 1)
    assert frame["mask"].shape == (4, 4, 1) and set(np.unique(frame["mask"]).tolist()) <= {0.0, 1.0}
    # Nearest-neighbour resizing: no depth blended with a neighbour or with the no-data value.
    assert set(np.round(frame["target"] * 65535).astype(int).ravel().tolist()) <= {1000, 1300, 65535}


def test_eight_bit_two_channel_curvature(tmp_path):
    b = os.path.join(tmp_path, "x")
    _png(os.path.join(b, "rgb"), 3, 4, "rgb", np.zeros((SIZE, SIZE, 3), np.uint8))
    curv = np.zeros((SIZE, SIZE, 3), np.uint8)
    curv[..., 0], curv[..., 1], curv[..., 2] = 51, 255, 7
    _png(os.path.join(b, "curvature"), 3, 4, "principal_curvature", curv)
    frame = next(taskonomy.taskonomy_dataset(str(tmp_path), ["x"], "curvature", image_size=SIZE).as_numpy_iterator())
    assert frame["target"].shape == (SIZE, SIZE, 2)
    np.testing.assert_allclose(frame["target"][0, 0], [0.2, 1.0], atol=1e-6)
    assert np.all(frame["mask"] == 1)


def test_truncated_target_is_skipped_and_counted(tmp_path):
    _building(str(tmp_path), mask=False)
    path = os.path.join(tmp_path, "allensville", "depth_zbuffer", "point_1_view_2_domain_depth_zbuffer.png")
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    counter = image_decode.SkipCounter("t")
    ds = taskonomy.taskonomy_dataset(str(tmp_path), ["allensville"], "depth_zbuffer", image_size=SIZE, skipped=counter)
    assert len(list(ds)) == 1 and counter.count == 2


@pytest.mark.parametrize(
    "buildings, task, message",
    [
        (["nowhere"], "depth_zbuffer", "nowhere: Taskonomy building folder does not exist"),
        (["allensville"], "depth_wrong", "allensville/depth_wrong: unknown Taskonomy task 'depth_wrong'"),
        (["allensville"], "normal", "allensville/normal: normal folder does not exist"),
    ],
)
def test_bad_paths_are_one_line_errors_naming_the_path(tmp_path, buildings, task, message):
    _building(str(tmp_path))
    with pytest.raises(DatasetError) as err:
        taskonomy.list_frames(str(tmp_path), buildings, task)
    assert message in str(err.value) and "\n" not in str(err.value) and str(err.value).startswith(str(tmp_path))


def test_split_buildings_from_a_side_tuning_csv(tmp_path):
    path = os.path.join(tmp_path, "train_val_test_tiny.csv")
    open(path, "w").write("id,train,val,test\nhanson,1,0,0\nmerom,1,0,0\nallensville,0,1,0\nwiconisco,0,0,1\n")
    assert taskonomy.split_buildings(path, "train") == ["hanson", "merom"]
    assert taskonomy.split_buildings(path, "val") == ["allensville"]
    with pytest.raises(DatasetError, match="tiny.csv: expected columns id and 'valid'"):
        taskonomy.split_buildings(path, "valid")

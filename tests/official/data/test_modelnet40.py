"""ModelNet40 HDF5 reader and writer (METHOD_CONTRACT item 3; spec card pointmixup.md "Data"): the fixture the
card names (two h5 files of 8 shapes, 2,048 points, 4 primitive classes, list files with the `data/` prefix)
written by `write_modelnet40_h5` and read back; bad files are one-line errors naming the file and the field;
the training augmentation is a scale, a rotation about y, one translation and a small jitter."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest
import tensorflow as tf

from official.data import modelnet40, shapes3d
from tools.make_shapes3d import writer_for

CLASSES = ("sphere", "box", "cylinder", "cone")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("modelnet") / "modelnet40_ply_hdf5_2048"
    splits = {"train": shapes3d.dataset_meshes(CLASSES, 2, 0), "test": shapes3d.dataset_meshes(CLASSES, 2, 1)}
    counts = modelnet40.write_modelnet40_h5(str(root), splits, np.random.default_rng(0))
    assert counts == {"train": 8, "test": 8}
    return str(root)


def test_writer_layout_and_reader_round_trip(folder):
    assert writer_for("modelnet40_h5") is modelnet40.write_modelnet40_h5
    listed = open(os.path.join(folder, "train_files.txt")).read().split()
    assert listed == ["data/modelnet40_ply_hdf5_2048/ply_data_train0.h5"]
    with h5py.File(os.path.join(folder, "ply_data_test0.h5")) as f:
        assert f["data"].shape == (8, 2048, 3) and f["data"].dtype == np.float32
        assert f["label"].shape == (8, 1) and f["label"].dtype == np.uint8
        full = np.asarray(f["data"])
    norms = np.linalg.norm(full, axis=-1)
    np.testing.assert_allclose(norms.max(1), 1.0, atol=1e-6)  # unit sphere
    np.testing.assert_allclose(full.mean(1), 0.0, atol=1e-6)  # centred
    points, labels = modelnet40.read_split(folder, "test", num_points=1024)
    assert points.shape == (8, 1024, 3) and sorted(labels.tolist()) == [0, 0, 1, 1, 2, 2, 3, 3]
    np.testing.assert_array_equal(points, full[:, :1024])  # the first num_points
    assert modelnet40.shape_names(folder) == list(CLASSES)
    assert len(modelnet40.read_split(folder, "train", 64, keep_rate=0.5)[1]) == 4


def test_listed_paths_resolve_beside_the_folder_after_the_data_prefix(folder, tmp_path):
    """The official loader reads line[5:] relative to the folder's parent: a list may name a sibling folder."""
    other = tmp_path / "lists"
    other.mkdir()
    sibling = os.path.basename(folder)
    os.symlink(folder, tmp_path / sibling)
    (other / "test_files.txt").write_text(f"data/{sibling}/ply_data_test0.h5\n")
    points, labels = modelnet40.read_split(str(other), "test", 16)
    assert points.shape == (8, 16, 3) and len(labels) == 8


def test_bad_files_name_the_file_and_the_field(folder, tmp_path):
    bad = tmp_path / "modelnet40_ply_hdf5_2048"
    bad.mkdir()
    with pytest.raises(modelnet40.ModelNetError, match="train_files.txt: missing"):
        modelnet40.read_split(str(bad), "train")
    (bad / "train_files.txt").write_text("data/modelnet40_ply_hdf5_2048/ply_data_train0.h5\n")
    with h5py.File(bad / "ply_data_train0.h5", "w") as f:
        f.create_dataset("data", data=np.zeros((2, 16, 3), np.float32))
    with pytest.raises(modelnet40.ModelNetError, match=r"ply_data_train0.h5: field 'label' missing"):
        modelnet40.read_split(str(bad), "train", 16)
    with h5py.File(bad / "ply_data_train0.h5", "a") as f:
        f.create_dataset("label", data=np.zeros((3, 1), np.uint8))
    with pytest.raises(modelnet40.ModelNetError, match=r"ply_data_train0.h5: field 'label' must be \(n, 1\)"):
        modelnet40.read_split(str(bad), "train", 16)
    with pytest.raises(modelnet40.ModelNetError, match="fewer than num_points=1024"):
        modelnet40.read_split(_short(tmp_path), "test")
    assert "\n" not in str(pytest.raises(modelnet40.ModelNetError, modelnet40.read_split, str(tmp_path / "nope"), "test").value)


def _short(tmp_path):
    short = tmp_path / "short"
    short.mkdir()
    with h5py.File(short / "ply_data_test0.h5", "w") as f:
        f.create_dataset("data", data=np.zeros((1, 100, 3), np.float32))
        f.create_dataset("label", data=np.zeros((1, 1), np.uint8))
    (short / "test_files.txt").write_text("data/short/ply_data_test0.h5\n")
    return str(short)


def test_augmentation_is_scale_up_rotation_translation_and_jitter():
    rng = np.random.default_rng(0)
    cloud = rng.uniform(-1, 1, (64, 3)).astype(np.float32)
    seed = tf.constant([3, 4], tf.int64)
    no_jitter = modelnet40.Augment(jitter_sigma=0.0)
    out = modelnet40.augment(tf.constant(cloud), seed, no_jitter).numpy()
    # distances scale by one factor s in [0.8, 1.25]; y is only scaled and shifted (a rotation about y)
    d0 = np.linalg.norm(cloud[:, None] - cloud[None], axis=-1)
    d1 = np.linalg.norm(out[:, None] - out[None], axis=-1)
    s = d1[d0 > 0].mean() / d0[d0 > 0].mean()
    assert 0.8 <= s <= 1.25
    np.testing.assert_allclose(d1, s * d0, atol=1e-5)
    t = (out[:, 1] - s * cloud[:, 1]).mean()
    np.testing.assert_allclose(out[:, 1], s * cloud[:, 1] + t, atol=1e-5)
    assert abs(t) <= 0.1
    # the same translation on x and z: the xz centroid of the rotated cloud moves by (t, t)
    radial = np.linalg.norm(out[:, [0, 2]] - t, axis=1)
    np.testing.assert_allclose(radial, s * np.linalg.norm(cloud[:, [0, 2]], axis=1), atol=1e-5)
    jittered = modelnet40.augment(tf.constant(cloud), seed, modelnet40.Augment()).numpy()
    assert 0 < np.abs(jittered - out).max() <= 0.05 + 1e-6  # clipped jitter on top of the same transform
    ds = modelnet40.build_dataset(np.stack([cloud] * 4), np.arange(4, dtype=np.int32), True, 2, seed=0)
    points, labels = next(iter(ds))
    assert points.shape == (2, 64, 3) and labels.dtype == tf.int32

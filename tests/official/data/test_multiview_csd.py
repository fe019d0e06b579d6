"""Computational-sequence (.csd) multi-view reader (official/data/multiview_csd.py) and the semi-supervised
tf.data stream (official/data/multiview.py): the digits halves written by tools.make_multiview_features read
back to the scans, bad entries are counted per reason and skipped, layout errors name the file and field."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest
from sklearn.datasets import load_digits

from official.core.errors import PathNotFoundError
from official.data import multiview, multiview_csd
from tools.make_multiview_features import write_digits_views, write_views


def test_digits_views_are_the_two_halves(tmp_path):
    root = str(tmp_path / "digits_views")
    assert write_digits_views(root, limit=150) == {"train": 150, "test": 150}  # full: 1,433 / 364 (card)
    views, labels, ids, skipped = multiview_csd.load_views(root, "test", ("left", "right"), num_classes=10)
    assert not skipped and len(ids) == 150 and [v.shape for v in views] == [(150, 32), (150, 32)]
    digits = load_digits()
    idx = np.array([int(i[1:]) for i in ids])
    np.testing.assert_array_equal(labels, digits.target[idx])
    np.testing.assert_allclose(views[0].reshape(-1, 8, 4), digits.images[idx, :, :4] / 16, atol=1e-7)
    np.testing.assert_allclose(views[1].reshape(-1, 8, 4), digits.images[idx, :, 4:] / 16, atol=1e-7)
    with h5py.File(os.path.join(root, "left.csd")) as f:  # the SDK's layout
        assert set(f["left"]) == {"data", "metadata"} and f["left/data/i00000/intervals"].shape == (1, 2)


def test_bad_entries_are_counted_and_skipped(tmp_path, caplog):
    root = str(tmp_path / "bad")
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(8, 3)).astype(np.float32), rng.normal(size=(8, 2)).astype(np.float32)]
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    write_views(root, {"a": x[0], "b": x[1]}, y, {"train": np.arange(8)})
    with h5py.File(os.path.join(root, "a.csd"), "a") as f:
        del f["a/data/i00001"]  # missing from view a
        del f["a/data/i00002/features"]
        f["a/data/i00002/features"] = np.zeros((1, 5), np.float32)  # another width
        f["a/data/i00003/features"][0, 0] = np.nan
        f["a/data/i00004/features"][...] = 0
    with h5py.File(os.path.join(root, "labels.csd"), "a") as f:
        f["labels/data/i00005/features"][...] = 7  # outside 0..2
    with h5py.File(os.path.join(root, "b.csd"), "a") as f:  # two segments: averaged
        del f["b/data/i00006"]
        f["b/data/i00006/features"] = np.array([[1, 2], [3, 6]], np.float32)
    views, labels, ids, skipped = multiview_csd.load_views(root, "train", ("a", "b"), num_classes=3)
    assert skipped == {"missing_a": 1, "bad_shape_a": 1, "non_finite_a": 1, "bad_label": 1}
    assert ids == ["i00000", "i00004", "i00006", "i00007"]
    np.testing.assert_array_equal(labels, [0, 1, 0, 1])
    np.testing.assert_allclose(views[1][2], [2, 4])
    np.testing.assert_allclose(views[0][1], 0)
    assert "skipped 4 of 8 entries" in caplog.text


def test_layout_errors_name_the_file_and_field(tmp_path):
    root = str(tmp_path / "err")
    write_views(root, {"a": np.ones((3, 2)), "b": np.ones((3, 2))}, np.zeros(3, np.int64), {"train": np.arange(3)})
    with pytest.raises(PathNotFoundError, match=r"folds/test.txt: fold list of split 'test' does not exist"):
        multiview_csd.load_views(root, "test", ("a", "b"))
    with pytest.raises(PathNotFoundError, match=r"c.csd: computational sequence file does not exist"):
        multiview_csd.load_views(root, "train", ("a", "c"))
    with open(os.path.join(root, "b.csd"), "w") as f:
        f.write("not hdf5")
    with pytest.raises(multiview_csd.CsdFormatError, match=r"b.csd: not an HDF5 file"):
        multiview_csd.load_views(root, "train", ("a", "b"))
    with h5py.File(os.path.join(root, "b.csd"), "w") as f:
        f.create_group("b").create_group("metadata")
    with pytest.raises(multiview_csd.CsdFormatError, match=r"b.csd: root group 'b' has no 'data' group"):
        multiview_csd.load_views(root, "train", ("a", "b"))


def test_semi_supervised_stream():
    views = [np.arange(20, dtype=np.float32)[:, None] * (m + 1) for m in range(2)]
    labels = np.arange(20) % 3
    ds = multiview.semi_supervised_dataset(views, labels, num_labeled=6, batch=4)
    batches = list(ds.take(5).as_numpy_iterator())
    x, y = batches[0]
    np.testing.assert_array_equal(x["labeled"]["view_0"][:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(x["labeled"]["view_1"][:, 0], [0, 2, 4, 6])  # views stay aligned
    np.testing.assert_array_equal(y, labels[:4])
    seen = {int(v) for xb, _ in batches for v in xb["labeled"]["view_0"][:, 0]}
    assert seen <= set(range(6))  # only the first num_labeled instances carry labels
    np.testing.assert_array_equal(batches[4][0]["unlabeled"]["view_0"][:, 0], [16, 17, 18, 19])
    with pytest.raises(ValueError, match="num_labeled"):
        multiview.semi_supervised_dataset(views, labels, num_labeled=3, batch=4)

"""The MNIST IDX reader on files written here in the real format (big-endian header, gzip or plain)."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from official.core.config import DataConfig
from official.data import classification_input, mnist
from official.data.imagefolder import DatasetError


def _write_idx(path, array: np.ndarray, type_code: int = 0x08) -> str:
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(str(path), "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())
    return str(path)


def _fixture(tmp_path, n=12, gz=True, labels=None):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    images[0, 3, 5] = 201  # a known pixel: row 3, column 5 of image 0
    labels = np.arange(n) % 10 if labels is None else labels
    ext = ".gz" if gz else ""
    path = _write_idx(tmp_path / f"train-images-idx3-ubyte{ext}", images)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{ext}", np.asarray(labels))
    return path, images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_reads_images_and_labels_in_row_major_order(tmp_path, gz):
    path, images, labels = _fixture(tmp_path, gz=gz)
    got, got_labels = mnist.read_mnist(path)
    assert got.shape == (12, 28, 28, 3) and got.dtype == np.uint8
    assert got[0, 3, 5].tolist() == [201, 201, 201]
    np.testing.assert_array_equal(got[..., 1], images)
    np.testing.assert_array_equal(got_labels, labels)


def test_bad_files_are_one_line_errors_naming_file_and_field(tmp_path):
    path, _, _ = _fixture(tmp_path, gz=False)
    with open(path, "r+b") as f:
        f.write(b"\x01")
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte: magic"):
        mnist.read_mnist(path)
    path, _, _ = _fixture(tmp_path, gz=False)
    with open(path, "ab") as f:
        f.write(b"\x00")
    with pytest.raises(DatasetError, match="data: 9409 bytes"):
        mnist.read_idx(path)
    path, _, _ = _fixture(tmp_path, gz=False)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5))
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte: dimensions: 5 labels for 12 images"):
        mnist.read_mnist(path)
    with pytest.raises(DatasetError, match="does not exist"):
        mnist.read_mnist(str(tmp_path / "t10k-images-idx3-ubyte.gz"))
    with pytest.raises(DatasetError, match="path: expected an images-idx3 file"):
        mnist.read_mnist(str(tmp_path / "train-labels-idx1-ubyte"))


def test_pipeline_counts_skips_and_batches(tmp_path):
    labels = np.arange(12) % 10
    labels[4] = 11  # out of range: counted and skipped
    path, images, _ = _fixture(tmp_path, labels=labels)
    cfg = DataConfig(source="mnist", path=path, image_size=28, random_resized_crop=False, horizontal_flip=False,
                     crop_pct=1.0, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), shuffle_buffer=1)
    source = classification_input.open_source(cfg)
    assert source.num_examples == 11 and source.skipped.count == 1 and source.class_names[3] == "3"
    x, y = next(iter(classification_input.build_dataset(cfg, False, 11, source=source)))
    np.testing.assert_array_equal(x.numpy()[0, ..., 0], images[0])
    np.testing.assert_array_equal(y.numpy(), np.delete(labels, 4))


def test_mnist_dataset_entry_points_at_the_official_file_names():
    from official.tasks.classification_experiments import DATASETS

    make, classes = DATASETS["mnist"]
    assert classes == 10
    assert make("train", True).path == "mnist/train-images-idx3-ubyte.gz"
    assert make("val", False).path == "mnist/t10k-images-idx3-ubyte.gz"
    assert mnist.labels_path(make("val", False).path) == "mnist/t10k-labels-idx1-ubyte.gz"

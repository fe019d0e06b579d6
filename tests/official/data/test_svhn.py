"""The SVHN .mat reader on files written here in the real format (MATLAB v5, X (32, 32, 3, N), y (N, 1))."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from official.core.config import DataConfig
from official.data import classification_input, svhn
from official.data.imagefolder import DatasetError


def _fixture(tmp_path, n=12, y=None):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    x[3, 5, :, 0] = [201, 17, 99]  # image 0, row 3, column 5: a known R, G, B
    y = (np.arange(n) % 10 + 1).reshape(-1, 1) if y is None else y  # 1..10, 10 = digit 0
    return _save(tmp_path, "train_32x32.mat", X=x, y=y), x, y


def test_reads_hwcn_images_and_maps_label_10_to_0(tmp_path):
    path, x, y = _fixture(tmp_path)
    images, labels = svhn.read_svhn(path)
    assert images.shape == (12, 32, 32, 3) and images.dtype == np.uint8
    assert images[0, 3, 5].tolist() == [201, 17, 99]
    np.testing.assert_array_equal(images[7], x[..., 7])
    assert labels.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]


def _save(tmp_path, name, **variables) -> str:
    path = str(tmp_path / name)
    scipy.io.savemat(path, variables)
    return path


@pytest.mark.parametrize(
    "name, variables, message",
    [
        ("noy.mat", {"X": np.zeros((32, 32, 3, 2), np.uint8)}, r"noy.mat: no variable 'y' \(variables: \['X'\]\)"),
        ("chw.mat", {"X": np.zeros((3, 32, 32, 2), np.uint8), "y": np.ones((2, 1))},
         r"chw.mat: variable 'X' has shape \(3, 32, 32, 2\), expected \(32, 32, 3, N\)"),
        ("y2.mat", {"X": np.zeros((32, 32, 3, 2), np.uint8), "y": np.ones((2, 2))},
         r"y2.mat: variable 'y' has shape \(2, 2\), expected \(N, 1\)"),
        ("count.mat", {"X": np.zeros((32, 32, 3, 2), np.uint8), "y": np.ones((5, 1))},
         "count.mat: variable 'y' has 5 labels for 2 images in 'X'"),
    ],
)
def test_bad_variables_are_one_line_errors_naming_file_and_field(tmp_path, name, variables, message):
    with pytest.raises(DatasetError, match=message) as err:
        svhn.read_svhn(_save(tmp_path, name, **variables))
    assert "\n" not in str(err.value)


def test_missing_or_unreadable_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(DatasetError, match=r"test_32x32.mat: SVHN .mat file does not exist"):
        svhn.read_svhn(str(tmp_path / "test_32x32.mat"))
    (tmp_path / "junk.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(DatasetError, match="junk.mat: not a MATLAB v5"):
        svhn.read_svhn(str(tmp_path / "junk.mat"))


def test_source_svhn_counts_skips_and_batches(tmp_path):
    y = (np.arange(12) % 10 + 1).reshape(-1, 1)
    y[4, 0], y[8, 0] = 0, 11  # outside 1..10: counted and skipped
    path, x, _ = _fixture(tmp_path, y=y)
    cfg = DataConfig(source="svhn", path=path, image_size=32, random_resized_crop=False, horizontal_flip=False,
                     crop_pct=1.0, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), shuffle_buffer=1)
    source = classification_input.open_source(cfg)
    assert source.num_examples == 10 and source.skipped.count == 2 and source.class_names[0] == "0"
    images, labels = next(iter(classification_input.build_dataset(cfg, False, 10, source=source)))
    np.testing.assert_array_equal(images.numpy()[0], x[..., 0].astype(np.float32))
    np.testing.assert_array_equal(images.numpy()[4], x[..., 5].astype(np.float32))
    assert labels.numpy().tolist() == [1, 2, 3, 4, 6, 7, 8, 0, 1, 2]

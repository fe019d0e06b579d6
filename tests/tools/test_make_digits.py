"""The digits writer: the real scikit-learn scans, split deterministically, in the folder layout."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from tools.make_digits import write_digits


def _listing(root: str) -> dict[str, list[str]]:
    return {c: sorted(os.listdir(os.path.join(root, c))) for c in sorted(os.listdir(root))}


def test_digits_layout_counts_and_pixels(digits_dir):
    train, val = _listing(os.path.join(digits_dir, "train")), _listing(os.path.join(digits_dir, "val"))
    assert len(train) == len(val) == 10
    assert sum(map(len, train.values())) == 1433 and sum(map(len, val.values())) == 364
    assert not set(f for v in train.values() for f in v) & set(f for v in val.values() for f in v)
    # each PNG is named by its scan's index: its class folder is the scan's label and its 8x8 block
    # means follow the scan (bilinear upsampling blurs edges, so correlation rather than equality)
    scans = load_digits()
    for split, listing in (("train", train), ("val", val)):
        for label in ("0", "7"):
            name = listing[label][1]
            index = int(os.path.splitext(name)[0])
            assert scans.target[index] == int(label)
            image = np.asarray(Image.open(os.path.join(digits_dir, split, label, name)))
            assert image.shape == (32, 32, 3) and image.dtype == np.uint8
            assert np.array_equal(image[..., 0], image[..., 2])
            blocks = image[..., 0].astype(np.float64).reshape(8, 4, 8, 4).mean(axis=(1, 3))
            assert np.corrcoef(blocks.ravel(), scans.images[index].ravel())[0, 1] > 0.9


def test_split_is_deterministic(digits_dir, tmp_path):
    again = str(tmp_path / "digits")
    write_digits(again)
    for split in ("train", "val"):
        assert _listing(os.path.join(again, split)) == _listing(os.path.join(digits_dir, split))

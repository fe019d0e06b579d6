"""SVHN cropped digits in the `train_32x32.mat` / `test_32x32.mat` (/ `extra_32x32.mat`) files of the official downloads.

A file is MATLAB v5 with X (32, 32, 3, N) uint8, the image axis last (HWCN), and y (N, 1) with labels
1..10, where 10 is the digit 0. Images become (N, 32, 32, 3) by moving the last axis first, and label 10
becomes 0 (torchvision's SVHN does the same, so the split lists of open-set papers mean digits). A
missing file, a missing X or y, a wrong shape or an X/y count mismatch is a `DatasetError` naming the
file and the field; labels outside 1..10 are counted, skipped and summarised in one warning.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import scipy.io

from official.data.image_decode import SkipCounter
from official.data.imagefolder import DatasetError

log = logging.getLogger(__name__)

SIDE = 32
NUM_CLASSES = 10
ZERO_LABEL = 10  # the .mat files store the digit 0 as 10


def load_mat(path: str) -> dict:
    """The variables of a MATLAB v5 file (scipy.io.loadmat), as a dict."""
    if not os.path.isfile(path):
        raise DatasetError(f"{path}: SVHN .mat file does not exist")
    try:
        return scipy.io.loadmat(path)
    except Exception as e:  # noqa: BLE001 - any parse failure means "not a MATLAB v5 file"
        raise DatasetError(f"{path}: not a MATLAB v5 .mat file ({type(e).__name__}: {e})") from e


def read_svhn(path: str, skipped: SkipCounter | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 32, 32, 3) uint8, labels (N,) int64 in 0..9) of one SVHN .mat file."""
    mat = load_mat(path)
    for key in ("X", "y"):
        if key not in mat:
            keys = sorted(k for k in mat if not k.startswith("__"))
            raise DatasetError(f"{path}: no variable {key!r} (variables: {keys})")
    x, y = np.asarray(mat["X"]), np.asarray(mat["y"])
    if x.ndim != 4 or x.shape[:3] != (SIDE, SIDE, 3):
        raise DatasetError(f"{path}: variable 'X' has shape {x.shape}, expected ({SIDE}, {SIDE}, 3, N)")
    if y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] != 1):
        raise DatasetError(f"{path}: variable 'y' has shape {y.shape}, expected (N, 1)")
    labels = y.reshape(-1).astype(np.int64)
    if len(labels) != x.shape[3]:
        raise DatasetError(f"{path}: variable 'y' has {len(labels)} labels for {x.shape[3]} images in 'X'")
    keep = (labels >= 1) & (labels <= ZERO_LABEL)
    if not keep.all():
        bad = int((~keep).sum())
        log.warning("%s: skipped %d of %d images with 'y' outside 1-%d", path, bad, len(labels), ZERO_LABEL)
        if skipped is not None:
            for _ in range(bad):
                skipped.increment()
    images = np.ascontiguousarray(np.moveaxis(x[..., keep], -1, 0).astype(np.uint8, copy=False))
    labels = labels[keep]
    labels[labels == ZERO_LABEL] = 0
    return images, labels

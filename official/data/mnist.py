"""MNIST (and Fashion-MNIST, KMNIST) in the IDX files of the official downloads.

Layout: `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`,
`t10k-labels-idx1-ubyte[.gz]`. An IDX file is a big-endian header, magic 0x00 0x00 <type> <ndim>
(type 0x08 = unsigned byte), one uint32 size per dimension, then the row-major data: images (N, 28, 28),
labels (N,). The labels file of an images file is the same name with `images-idx3` -> `labels-idx1`.
Images become (28, 28, 3) uint8 (the grey value in every channel) so that the classification pipeline
treats them like any RGB image. A wrong magic, a truncated file or an images/labels count mismatch is
a `DatasetError` naming the file and the field; labels outside 0-9 are counted and skipped.
"""

from __future__ import annotations

import gzip
import logging
import os

import numpy as np

from official.data.image_decode import SkipCounter
from official.data.imagefolder import DatasetError

log = logging.getLogger(__name__)

UBYTE = 0x08
NUM_CLASSES = 10


def read_idx(path: str) -> np.ndarray:
    """The uint8 array of an IDX file (gzip or plain), shaped by its header."""
    if not os.path.isfile(path):
        raise DatasetError(f"{path}: IDX file does not exist")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:
        raise DatasetError(f"{path}: cannot read ({err})") from err
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DatasetError(f"{path}: magic: not an IDX file (first bytes {data[:4].hex() or 'none'})")
    if data[2] != UBYTE:
        raise DatasetError(f"{path}: magic: element type 0x{data[2]:02x}, expected 0x08 (unsigned byte)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: dimensions: header truncated")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    size = int(np.prod(shape)) if shape else 0
    if len(data) - header != size:
        raise DatasetError(f"{path}: data: {len(data) - header} bytes after the header, dimensions {shape} need {size}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def labels_path(images_path: str) -> str:
    """The labels file of an images file (`...-images-idx3-ubyte` -> `...-labels-idx1-ubyte`)."""
    name = os.path.basename(images_path)
    if "images-idx3" not in name:
        raise DatasetError(f"{images_path}: path: expected an images-idx3 file (e.g. train-images-idx3-ubyte.gz)")
    return os.path.join(os.path.dirname(images_path), name.replace("images-idx3", "labels-idx1"))


def read_mnist(images_path: str, skipped: SkipCounter | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28, 3) uint8, labels (N,) int64) of an images file and its labels file."""
    images = read_idx(images_path)
    labels_file = labels_path(images_path)
    labels = read_idx(labels_file)
    if images.ndim != 3 or labels.ndim != 1:
        raise DatasetError(f"{images_path}: dimensions: images {images.shape}, labels {labels.shape}; expected (N, h, w) and (N,)")
    if len(images) != len(labels):
        raise DatasetError(f"{labels_file}: dimensions: {len(labels)} labels for {len(images)} images")
    keep = labels < NUM_CLASSES
    if not keep.all():
        bad = int((~keep).sum())
        log.warning("%s: %d label(s) outside 0-%d skipped", labels_file, bad, NUM_CLASSES - 1)
        if skipped is not None:
            for _ in range(bad):
                skipped.increment()
    rgb = np.repeat(images[keep][..., None], 3, axis=-1)
    return rgb, labels[keep].astype(np.int64)

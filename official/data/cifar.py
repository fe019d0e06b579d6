"""CIFAR-10 / CIFAR-100 in the "python version" pickles of the official downloads.

Layouts (https://www.cs.toronto.edu/~kriz/cifar.html):
  cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}: b"data" (N, 3072) uint8, b"labels",
      b"filenames", b"batch_label"; batches.meta holds b"label_names".
  cifar-100-python/{train, test, meta}: b"data", b"fine_labels", b"coarse_labels", b"filenames"; meta
      holds b"fine_label_names" and b"coarse_label_names".
A row of b"data" is three row-major 32x32 planes, red then green then blue (CHW), so it becomes HWC by
reshape (3, 32, 32) then transpose (1, 2, 0); a reshape straight to (32, 32, 3) scrambles the channels.

The pickles are read with a restricted unpickler (numpy arrays, lists, bytes and ints only), since a
pickle can otherwise run any code. A path or schema problem is a `DatasetError` naming the file and the
key; records whose label is outside the class range are counted, skipped and summarised in one warning.
"""

from __future__ import annotations

import glob
import logging
import os
import pickle
from typing import Any

import numpy as np

from official.data.image_decode import SkipCounter
from official.data.imagefolder import DatasetError

log = logging.getLogger(__name__)

SIDE = 32
ROW_LENGTH = 3 * SIDE * SIDE
# label_key -> (pickle key, meta key of the class names, class count when there is no meta file)
LABEL_KEYS = {
    "labels": (b"labels", b"label_names", 10),
    "fine": (b"fine_labels", b"fine_label_names", 100),
    "coarse": (b"coarse_labels", b"coarse_label_names", 20),
}
META_FILES = ("batches.meta", "meta")  # CIFAR-10, CIFAR-100

# The globals a pickled numpy array may name: numpy 1.x wrote numpy.core.*, numpy 2 writes numpy._core.*,
# protocol < 3 pickles of Python 3 bytes go through _codecs.encode.
_SAFE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"): ("numpy._core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("_codecs", "encode"): ("_codecs", "encode"),
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _SAFE_GLOBALS:
            raise pickle.UnpicklingError(f"refuses global {module}.{name} (only numpy arrays are allowed)")
        return super().find_class(*_SAFE_GLOBALS[(module, name)])


def load_pickle(path: str) -> dict:
    """The dict of one CIFAR pickle, keys as bytes (`pickle.load(f, encoding="bytes")`, restricted)."""
    try:
        with open(path, "rb") as f:
            obj = _ArrayUnpickler(f, encoding="bytes").load()
    except FileNotFoundError as e:
        raise DatasetError(f"{path}: CIFAR batch file does not exist") from e
    except Exception as e:  # noqa: BLE001 - any unpickling failure means "not a CIFAR pickle"
        raise DatasetError(f"{path}: not a CIFAR python-version pickle ({type(e).__name__}: {e})") from e
    if not isinstance(obj, dict):
        raise DatasetError(f"{path}: expected a pickled dict with key b'data', got {type(obj).__name__}")
    return obj


def list_batch_files(path_pattern: str) -> list[str]:
    """The batch files a path or glob names, sorted (data_batch_1..5 in order); meta files excluded."""
    if any(ch in path_pattern for ch in "*?["):
        files = sorted(f for f in glob.glob(path_pattern) if os.path.basename(f) not in META_FILES)
        if not files:
            raise DatasetError(f"{path_pattern}: no CIFAR batch files match")
        return files
    if not os.path.isfile(path_pattern):
        raise DatasetError(f"{path_pattern}: CIFAR batch file does not exist")
    return [path_pattern]


def _resolve_label_key(batch: dict, path: str, label_key: str) -> str:
    if label_key == "auto":
        return "fine" if b"fine_labels" in batch else "labels"
    if label_key not in LABEL_KEYS:
        raise DatasetError(f"{path}: label_key must be auto, {', '.join(LABEL_KEYS)}; got {label_key!r}")
    return label_key


def read_class_names(folder: str, label_key: str) -> list[str] | None:
    """Class names from the meta file beside the batches (None when there is none)."""
    meta_key = LABEL_KEYS[label_key][1]
    for name in META_FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            meta = load_pickle(path)
            if meta_key not in meta:
                raise DatasetError(f"{path}: meta file has no key {meta_key!r} (keys: {sorted(meta)})")
            return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in meta[meta_key]]
    return None


def _batch_arrays(batch: dict, path: str, pickle_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    if b"data" not in batch:
        raise DatasetError(f"{path}: no key b'data' (keys: {sorted(batch)})")
    if pickle_key not in batch:
        raise DatasetError(f"{path}: no key {pickle_key!r} (keys: {sorted(batch)})")
    data = np.asarray(batch[b"data"])
    if data.ndim != 2 or data.shape[1] != ROW_LENGTH:
        raise DatasetError(f"{path}: key b'data' has shape {data.shape}, expected (N, {ROW_LENGTH})")
    labels = np.asarray(batch[pickle_key], dtype=np.int64).reshape(-1)
    if len(labels) != len(data):
        raise DatasetError(f"{path}: key {pickle_key!r} has {len(labels)} labels for {len(data)} rows of b'data'")
    return data.astype(np.uint8, copy=False), labels


def rows_to_hwc(data: np.ndarray) -> np.ndarray:
    """(N, 3072) rows of R, G, B planes -> (N, 32, 32, 3) uint8 images."""
    return data.reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1)


def read_batches(
    path_pattern: str, label_key: str = "auto", skipped: SkipCounter | None = None
) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """(images uint8 (N, 32, 32, 3), labels int64 (N,), class names or None) of the batch files named.

    `path_pattern`: one file (`cifar-100-python/train`) or a glob (`cifar-10-batches-py/data_batch_*`).
    `label_key`: "auto" (b"fine_labels" when present, else b"labels"), "fine", "coarse" or "labels".
    Records with a label outside [0, number of classes) are dropped and counted in `skipped`.
    """
    files = list_batch_files(path_pattern)
    batches, key = [], None
    for path in files:
        batch = load_pickle(path)
        key = key or _resolve_label_key(batch, path, label_key)
        batches.append(_batch_arrays(batch, path, LABEL_KEYS[key][0]))
    class_names = read_class_names(os.path.dirname(files[0]), key)
    num_classes = len(class_names) if class_names else LABEL_KEYS[key][2]
    keeps = [(lab >= 0) & (lab < num_classes) for _, lab in batches]
    total, kept = sum(len(k) for k in keeps), sum(int(k.sum()) for k in keeps)
    # One copy from the pickled rows into the HWC result (CIFAR-10 train is 150 MB).
    images, labels, start = np.empty((kept, SIDE, SIDE, 3), np.uint8), np.empty((kept,), np.int64), 0
    for (data, lab), keep in zip(batches, keeps, strict=True):
        n = int(keep.sum())
        rows = data if n == len(keep) else data[keep]
        images[start : start + n] = rows_to_hwc(rows)
        labels[start : start + n] = lab[keep]
        start += n
    if kept < total:
        log.warning("%s: skipped %d of %d records with %r outside [0, %d)", path_pattern, total - kept, total,
                    LABEL_KEYS[key][0], num_classes)
        if skipped is not None:
            for _ in range(total - kept):
                skipped.increment()
    return images, labels, class_names

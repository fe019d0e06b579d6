"""Precomputed detector regions on disk (BUTD Faster R-CNN, as BigRedT/info-ground and Align2Ground ship them):
DIR/boxes.hdf5 and DIR/features.hdf5, one dataset per image name, (N, 4) x1, y1, x2, y2 pixels and (N, D).

`RegionFeatures.load(name, max_regions)` -> boxes (R, 4), feats (R, D), mask (R,) padded with zeros (the
authors' pad_object_features: the first R boxes are kept), or None for an image that is missing or whose
two arrays disagree; `names()` lists only the usable records, so callers count the others and skip
them. A missing file is a one-line PathNotFoundError.
"""

from __future__ import annotations

import os

import numpy as np

from official.core.errors import PathNotFoundError, UserError

BOXES, FEATURES = "boxes.hdf5", "features.hdf5"


class RegionFeaturesError(UserError, ValueError):
    """A detections file that does not follow the layout; the message names the file and the field."""


class RegionFeatures:
    """Lazy reader of a boxes.hdf5 / features.hdf5 pair (files opened once per process, read per image)."""

    def __init__(self, folder: str, feature_dim: int):
        self.paths = {k: os.path.join(folder, k) for k in (BOXES, FEATURES)}
        for path in self.paths.values():
            if not os.path.isfile(path):
                raise PathNotFoundError(f"{path}: detections file does not exist (expected {BOXES} + {FEATURES})")
        self.feature_dim = feature_dim

    def _read(self, name: str | None = None):
        """Opened per read, as the authors' loader does: no h5py handle shared across tf.data's threads."""
        import h5py

        with h5py.File(self.paths[BOXES], "r") as b, h5py.File(self.paths[FEATURES], "r") as f:
            if name is None:  # shapes are metadata: a bad record is found without reading its arrays
                return {k for k in set(b.keys()) & set(f.keys()) if _consistent(b[k].shape, f[k].shape)}
            if name not in b or name not in f:
                return None
            return np.asarray(b[name], np.float32), np.asarray(f[name], np.float32)

    def names(self) -> set[str]:
        """The images with a usable record: (N, 4) boxes and (N, D) features, N > 0 (callers count the rest)."""
        return self._read()

    def load(self, name: str, max_regions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        arrays = self._read(name)
        if arrays is None:
            return None
        boxes, feats = arrays
        if not _consistent(boxes.shape, feats.shape):
            return None
        if feats.shape[1] != self.feature_dim:
            raise RegionFeaturesError(f"{self.paths[FEATURES]}: '{name}' has {feats.shape[1]}-d features, the model "
                                      f"takes {self.feature_dim} (region_dim)")
        n = min(len(boxes), max_regions)
        out_boxes = np.zeros((max_regions, 4), np.float32)
        out_feats = np.zeros((max_regions, self.feature_dim), np.float32)
        mask = np.zeros(max_regions, np.float32)
        out_boxes[:n], out_feats[:n], mask[:n] = boxes[:n], feats[:n], 1.0
        return out_boxes, out_feats, mask


def _consistent(boxes_shape: tuple, feats_shape: tuple) -> bool:
    return (len(boxes_shape) == 2 and boxes_shape[1] == 4 and len(feats_shape) == 2 and boxes_shape[0] == feats_shape[0]
            and boxes_shape[0] > 0)


def write_region_features(folder: str, regions: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Writes {name: (boxes (N, 4), feats (N, D))} as the two files (temp names, then renamed)."""
    import h5py

    os.makedirs(folder, exist_ok=True)
    for key, index in ((BOXES, 0), (FEATURES, 1)):
        tmp = os.path.join(folder, f".{key}.tmp")
        with h5py.File(tmp, "w") as f:
            for name, arrays in regions.items():
                f.create_dataset(name, data=np.asarray(arrays[index], np.float32))
        os.replace(tmp, os.path.join(folder, key))

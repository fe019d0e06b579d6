"""Meshes from an implicit occupancy function: dense marching cubes and ONet's MISE (numpy, outside graphs).

`extract_mesh(values, threshold, box_size)` follows ONet/ConvONet `Generator3D.extract_mesh`: pad the
(n, n, n) value grid with -1e6, marching cubes (scikit-image's `measure.marching_cubes` here; the
authors' libmcubes shifts vertices by +0.5, which they subtract, so both give vertex i at grid index i),
undo the padding, scale grid index i to box_size * (i / (n - 1) - 0.5).

`mise(evaluate, resolution0=32, upsampling_steps=2, threshold)` is the Multiresolution IsoSurface
Extraction of ONet's `libmise` (src/utils/libmise/mise.pyx), written with dense boolean arrays instead
of an octree: start with the (r0 + 1)^3 corners of r0^3 voxels; after every evaluation, each leaf voxel
(of a level below the finest) that has a known grid point on its closed boundary with value >= t and
one with value <= t is split into 8, adding the new corner points; repeat until no point is unknown;
`to_dense` fills unknown points by copying the previous value along x, then y, then z.
The threshold is on the evaluator's values (ConvONet: logits, log(0.2 / 0.8) for occupancy 0.2).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def grid_points(resolution: int, box_size: float = 1.1) -> np.ndarray:
    """(n^3, 3) points of a dense n-point-per-axis grid over [-box/2, box/2]^3, x slowest (make_3d_grid)."""
    axis = np.linspace(-0.5, 0.5, resolution) * box_size
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3).astype(np.float32)


def extract_mesh(values: np.ndarray, threshold: float, box_size: float = 1.1) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (V, 3) float32, faces (F, 3) int64) of the {values = threshold} surface of a dense grid.

    values[i, j, k] is the value at grid point (x_i, y_j, z_k). An empty grid (nothing crosses the
    threshold) gives empty arrays.
    """
    from skimage import measure

    values = np.asarray(values, np.float64)
    n = np.array(values.shape, np.float64)
    padded = np.pad(values, 1, mode="constant", constant_values=-1e6)
    if not (padded.max() > threshold > padded.min()):
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int64)
    verts, faces, _, _ = measure.marching_cubes(padded, level=threshold)
    verts = verts - 1.0  # undo the padding
    verts = box_size * (verts / (n - 1) - 0.5)
    # scikit-image orients faces for a field that is high outside; occupancy is high inside: flip them
    return verts.astype(np.float32), faces[:, ::-1].astype(np.int64)


def dense_values(evaluate: Callable[[np.ndarray], np.ndarray], resolution: int, box_size: float = 1.1,
                 batch: int = 100_000) -> np.ndarray:
    """The (n, n, n) grid of evaluate(points) over `grid_points(resolution)`, in batches."""
    points = grid_points(resolution, box_size)
    out = np.concatenate([np.asarray(evaluate(points[i:i + batch])).reshape(-1)
                          for i in range(0, len(points), batch)])
    return out.reshape((resolution,) * 3)


def _box_any(mask: np.ndarray, size: int) -> np.ndarray:
    """For each voxel of edge `size` (grid points 0, size, 2 size, ...): any True in its closed box."""
    total = np.pad(np.cumsum(np.cumsum(np.cumsum(mask.astype(np.int32), 0), 1), 2), ((1, 0),) * 3)
    lo = np.arange(0, mask.shape[0] - 1, size)
    hi = lo + size + 1
    a, b = np.ix_(lo, lo, lo), np.ix_(hi, hi, hi)
    count = (total[b[0], b[1], b[2]] - total[a[0], b[1], b[2]] - total[b[0], a[1], b[2]] - total[b[0], b[1], a[2]]
             + total[a[0], a[1], b[2]] + total[a[0], b[1], a[2]] + total[b[0], a[1], a[2]] - total[a[0], a[1], a[2]])
    return count > 0


class MISE:
    """ONet's multiresolution extraction on dense arrays: `query()` -> points to evaluate (integer grid
    coordinates in [0, resolution]), `update(points, values)`, ..., `to_dense()`."""

    def __init__(self, resolution0: int, depth: int, threshold: float):
        self.resolution0, self.depth, self.threshold = resolution0, depth, threshold
        self.resolution = resolution0 << depth
        size = self.resolution + 1
        self.values = np.zeros((size,) * 3)
        self.known = np.zeros((size,) * 3, bool)
        self.exists = np.zeros((size,) * 3, bool)
        step = 1 << depth
        self.exists[::step, ::step, ::step] = True
        # leaf[l]: which voxels of level l (edge 2^(depth - l)) are leaves of the octree
        self.leaf = [np.zeros((resolution0 << lv,) * 3, bool) for lv in range(depth + 1)]
        self.leaf[0][:] = True

    def query(self) -> np.ndarray:
        """(K, 3) int64 grid coordinates of the points that exist and have no value yet."""
        return np.argwhere(self.exists & ~self.known).astype(np.int64)

    def update(self, points: np.ndarray, values: np.ndarray) -> None:
        points = np.asarray(points, np.int64)
        if not self.exists[points[:, 0], points[:, 1], points[:, 2]].all():
            raise ValueError("MISE.update: point not in grid")
        self.values[points[:, 0], points[:, 1], points[:, 2]] = values
        self.known[points[:, 0], points[:, 1], points[:, 2]] = True
        positive = self.known & (self.values >= self.threshold)
        negative = self.known & (self.values <= self.threshold)
        for level in range(self.depth):  # the finest level is never split
            size = 1 << (self.depth - level)
            split = self.leaf[level] & _box_any(positive, size) & _box_any(negative, size)
            if not split.any():
                continue
            self.leaf[level] &= ~split
            children = np.repeat(np.repeat(np.repeat(split, 2, 0), 2, 1), 2, 2)
            self.leaf[level + 1] |= children
            half = size // 2
            for corner in np.argwhere(split) * size:  # the 27 points of each split voxel at the new spacing
                x, y, z = corner
                self.exists[x:x + size + 1:half, y:y + size + 1:half, z:z + size + 1:half] = True

    def to_dense(self) -> np.ndarray:
        """(R + 1)^3 values; points never evaluated take the previous value along x, then y, then z."""
        out = np.where(self.exists, self.values, np.nan)
        for axis in range(3):
            view = np.moveaxis(out, axis, 0)
            for i in range(1, view.shape[0]):
                hole = np.isnan(view[i])
                view[i][hole] = view[i - 1][hole]
        return out


def mise(evaluate: Callable[[np.ndarray], np.ndarray], resolution0: int = 32, upsampling_steps: int = 2,
         threshold: float = 0.0, box_size: float = 1.1, batch: int = 100_000) -> tuple[np.ndarray, int]:
    """The (R + 1)^3 value grid, R = resolution0 * 2^steps, of `evaluate` by MISE; and the points evaluated.

    `evaluate((K, 3) float32 points in [-box/2, box/2]^3) -> (K,)` values (logits).
    """
    extractor = MISE(resolution0, upsampling_steps, threshold)
    points = extractor.query()
    evaluated = 0
    while len(points):
        coords = (box_size * (points / extractor.resolution - 0.5)).astype(np.float32)
        values = np.concatenate([np.asarray(evaluate(coords[i:i + batch]), np.float64).reshape(-1)
                                 for i in range(0, len(coords), batch)])
        extractor.update(points, values)
        evaluated += len(points)
        points = extractor.query()
    return extractor.to_dense(), evaluated


def occupancy_threshold(probability: float) -> float:
    """The logit of an occupancy probability (ConvONet: 0.2 -> log(0.2 / 0.8))."""
    return float(np.log(probability) - np.log1p(-probability))

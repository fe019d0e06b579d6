"""Persistent homology of 2D images: 0- and 1-dimensional pairs of the sublevel filtration of the cubical
complex whose top cells are the pixels (gudhi's `CubicalComplex(top_dimensional_cells=image)`, tcripser's
T-construction), with the critical pixel of every birth and death.

Why a host (numpy) routine and not keras.ops: the computation is a sort plus union-find, which is sequential
and data-dependent; the topological loss needs only the *indices* of the critical pixels (they are not
differentiable), and gathers the pixel values in keras.ops so that the gradient flows through them
(`official/losses/topology.py`).

Conventions (equal to gudhi's, checked in tests/official/ops/test_cubical_persistence.py):
- a lower cell takes the minimum of the pixels around it, so the sublevel set at t is the union of the closed
  pixel squares with value <= t: components are 8-connected (squares touching at a corner are joined);
- a 1-cycle is a bounded component of the complement. The complement's pixels are 4-connected, and every
  border pixel touches the unbounded outside. By Alexander duality the 1-dimensional pairs are the 0-dimensional
  pairs of the superlevel filtration of the complement (pixels in decreasing order, 4-connectivity, plus one
  "outside" node that exists from the start): a complement component born at its maximum m (the hole's death)
  that merges into an older one when pixel p enters gives the pair (f[p], m);
- one essential class, (global minimum, inf) in dimension 0; the image is a disk, so none in dimension 1;
- pairs of zero persistence are dropped (gudhi's `persistence()` default `min_persistence=0`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

_OFFSETS_8 = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
_OFFSETS_4 = [(-1, 0), (0, -1), (0, 1), (1, 0)]


@dataclasses.dataclass
class Diagram:
    """Pairs of one homology dimension: values and the flat (row-major) indices of their critical pixels.

    `death` is inf and `death_pixel` is -1 for the essential class."""

    birth: np.ndarray  # (n,) float64
    death: np.ndarray  # (n,) float64
    birth_pixel: np.ndarray  # (n,) int64, flat index into the image
    death_pixel: np.ndarray  # (n,) int64, -1 for an essential class

    @property
    def points(self) -> np.ndarray:
        """(n, 2) array of (birth, death), the layout gudhi and the distances use."""
        return np.stack([self.birth, self.death], axis=1) if len(self.birth) else np.zeros((0, 2))

    def __len__(self) -> int:
        return int(len(self.birth))

    def sorted_by_persistence(self) -> Diagram:
        """Most persistent first (ties: earlier birth first), the order the loss truncates in."""
        order = np.lexsort((self.birth, -(self.death - self.birth)))
        return Diagram(self.birth[order], self.death[order], self.birth_pixel[order], self.death_pixel[order])


def _neighbours(shape: tuple[int, int], offsets) -> list[list[int]]:
    height, width = shape
    out = []
    for r in range(height):
        for c in range(width):
            out.append([(r + dr) * width + c + dc for dr, dc in offsets
                        if 0 <= r + dr < height and 0 <= c + dc < width])
    return out


def _find(parent: list[int], i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression
        parent[i], i = root, parent[i]
    return root


def _elder_rule(values: np.ndarray, order: np.ndarray, neighbours: list[list[int]], outside: list[bool] | None):
    """0-dimensional persistence of the filtration that adds pixels in `order` (sublevel: increasing values).

    Yields (dying root, merging pixel) for each merge; the older component (added earlier) survives. With
    `outside`, node n (added before every pixel) neighbours the pixels marked True."""
    n = len(values)
    rank = np.empty(n + 1, dtype=np.int64)
    rank[order] = np.arange(n)
    rank[n] = -1  # the outside node is the oldest
    parent = list(range(n + 1))
    present = [False] * n + [outside is not None]
    pairs = []
    for p in order.tolist():
        present[p] = True
        roots = {_find(parent, q) for q in neighbours[p] if present[q]}
        if outside is not None and outside[p]:
            roots.add(_find(parent, n))
        if not roots:
            continue
        elder = min(roots, key=lambda r: rank[r])
        for r in roots:
            if r != elder:
                pairs.append((r, p))
                parent[r] = elder
        parent[p] = elder
    return pairs


def _diagram(birth_pixels, death_pixels, values) -> Diagram:
    birth_pixel = np.asarray(birth_pixels, dtype=np.int64)
    death_pixel = np.asarray(death_pixels, dtype=np.int64)
    birth = values[birth_pixel] if len(birth_pixel) else np.zeros(0)
    death = np.where(death_pixel >= 0, values[np.maximum(death_pixel, 0)], np.inf) if len(death_pixel) else np.zeros(0)
    keep = death > birth  # zero-persistence pairs are not reported (gudhi's min_persistence = 0)
    return Diagram(birth[keep].astype(np.float64), death[keep].astype(np.float64), birth_pixel[keep], death_pixel[keep])


_NEIGHBOUR_CACHE: dict[tuple, list[list[int]]] = {}


def _cached_neighbours(shape, offsets, key) -> list[list[int]]:
    if (shape, key) not in _NEIGHBOUR_CACHE:
        _NEIGHBOUR_CACHE[(shape, key)] = _neighbours(shape, offsets)
    return _NEIGHBOUR_CACHE[(shape, key)]


def cubical_persistence(image, dimensions=(0, 1)) -> dict[int, Diagram]:
    """{dimension: Diagram} of the sublevel filtration of a 2D image (pixels = top cells).

    image: (height, width) array; non-finite values are not allowed."""
    values2d = np.asarray(image, dtype=np.float64)
    if values2d.ndim != 2 or values2d.size == 0:
        raise ValueError(f"cubical_persistence: expected a non-empty 2D image, got shape {values2d.shape}")
    if not np.all(np.isfinite(values2d)):
        raise ValueError("cubical_persistence: image has non-finite values")
    shape = values2d.shape
    values = values2d.ravel()
    out: dict[int, Diagram] = {}
    if 0 in dimensions:
        order = np.argsort(values, kind="stable")
        pairs = _elder_rule(values, order, _cached_neighbours(shape, _OFFSETS_8, 8), None)
        births = [r for r, _ in pairs] + [int(order[0])]  # the root that never dies: the first pixel
        deaths = [p for _, p in pairs] + [-1]
        out[0] = _diagram(births, deaths, values)
    if 1 in dimensions:
        order = np.argsort(-values, kind="stable")
        height, width = shape
        rows, cols = np.divmod(np.arange(values.size), width)
        border = ((rows == 0) | (rows == height - 1) | (cols == 0) | (cols == width - 1)).tolist()
        pairs = _elder_rule(-values, order, _cached_neighbours(shape, _OFFSETS_4, 4), border)
        # dual pair: the hole is born when pixel p closes it and dies at the dying component's maximum r
        out[1] = _diagram([p for _, p in pairs], [r for r, _ in pairs], values)
    unknown = set(dimensions) - {0, 1}
    if unknown:
        raise ValueError(f"cubical_persistence: dimensions {sorted(unknown)} do not exist in a 2D image")
    return out


def betti_numbers(diagrams: dict[int, Diagram], level: float) -> dict[int, int]:
    """Betti numbers of the sublevel set {image <= level}: pairs alive at `level` (birth <= level < death)."""
    return {dim: int(np.sum((d.birth <= level) & (level < d.death))) for dim, d in diagrams.items()}

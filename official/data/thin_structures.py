"""Generated thin-structure images for topology-aware generation (tools.make_thin_structures): dark 1-2 px
structures on white, 64x64 grayscale, the stand-ins for TopoGAN's EM membranes and road maps.

- "membranes": the boundaries of a random Voronoi partition (6-12 cells), each cell one loop; with probability
  `gap_fraction` one membrane gets a 3 px gap, which merges two cells (one loop fewer);
- "roads": 3-5 smooth random curves crossing the image, drawn 2 px wide; their crossings enclose loops.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

KINDS = ("membranes", "roads")


def membranes(rng: np.random.Generator, size: int = 64, gap: bool = False) -> np.ndarray:
    seeds = rng.uniform(0, size, (int(rng.integers(6, 13)), 2))
    yy, xx = np.mgrid[:size, :size]
    label = np.argmin((yy[..., None] - seeds[:, 0]) ** 2 + (xx[..., None] - seeds[:, 1]) ** 2, axis=-1)
    edge = np.zeros((size, size), bool)
    edge[:, :-1] |= label[:, :-1] != label[:, 1:]
    edge[:-1, :] |= label[:-1, :] != label[1:, :]
    edge[[0, -1], :] = True  # the image border closes the outer cells, as a patch cut from a larger section
    edge[:, [0, -1]] = True
    if gap:
        inner = np.argwhere(edge[3:-3, 3:-3]) + 3
        r, c = inner[rng.integers(len(inner))]
        edge[r - 1:r + 2, c - 1:c + 2] = False
    return np.where(edge, 0, 255).astype(np.uint8)


def roads(rng: np.random.Generator, size: int = 64) -> np.ndarray:
    img = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(img)
    t = np.linspace(0.0, 1.0, 24)
    for _ in range(int(rng.integers(3, 6))):
        start, end = rng.uniform(0, size, 2), rng.uniform(0, size, 2)
        if rng.random() < 0.5:  # edge to edge: left-right or top-bottom
            start[0], end[0] = -2, size + 1
        else:
            start[1], end[1] = -2, size + 1
        bend = rng.normal(0, size / 5, 2)
        line = start[None] * (1 - t[:, None]) + end[None] * t[:, None] + np.sin(np.pi * t)[:, None] * bend[None]
        draw.line([tuple(p) for p in line], fill=0, width=2)
    return np.asarray(img)


def draw(kind: str, rng: np.random.Generator, size: int = 64, gap_fraction: float = 0.25) -> np.ndarray:
    if kind == "membranes":
        return membranes(rng, size, bool(rng.random() < gap_fraction))
    if kind == "roads":
        return roads(rng, size)
    raise ValueError(f"thin structure kind {kind!r} is not one of {KINDS}")

"""Synthetic magazine pages written in the Magazine dataset's XML format (for NDN's small run and tests).

Pages follow a few editorial templates with jitter, so relations are learnable: a headline in the top
third (spanning the page or a column), one large image, 1-3 text blocks in columns or under the image,
sometimes a text-over-image caption inside the image. Each element is a 4-corner polygon in pixels;
a full-page `background` element is written too (the reader drops it, as const_layout does).
"""

from __future__ import annotations

import os

import numpy as np

from official.data.magazine_layouts import ANNOTATIONS

WIDTH, HEIGHT = 300, 400


def _page(rng: np.random.Generator) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Elements (label, (x1, y1, x2, y2)) in relative units of one page."""
    m = rng.uniform(0.04, 0.08)  # margin
    out = []
    head_h = rng.uniform(0.06, 0.12)
    out.append(("headline", (m, m, 1 - m, m + head_h)))
    top = m + head_h + rng.uniform(0.02, 0.05)
    template = rng.integers(3)
    if template == 0:  # image on top, text columns below
        img_b = top + rng.uniform(0.3, 0.45)
        out.append(("image", (m, top, 1 - m, img_b)))
        cols = int(rng.integers(1, 4))
        gap = 0.03
        w = (1 - 2 * m - gap * (cols - 1)) / cols
        for c in range(cols):
            x1 = m + c * (w + gap)
            out.append(("text", (x1, img_b + 0.03, x1 + w, rng.uniform(0.8, 1 - m))))
    elif template == 1:  # image left, text right
        split = rng.uniform(0.45, 0.6)
        out.append(("image", (m, top, split, rng.uniform(0.6, 0.9))))
        n = int(rng.integers(1, 3))
        y = top
        for _ in range(n):
            h = rng.uniform(0.15, 0.3)
            out.append(("text", (split + 0.03, y, 1 - m, y + h)))
            y += h + 0.03
    else:  # full-bleed image with a caption over it and one text block below
        img_b = rng.uniform(0.6, 0.75)
        out.append(("image", (m, top, 1 - m, img_b)))
        cy = rng.uniform(top + 0.05, img_b - 0.12)
        out.append(("text-over-image", (m + 0.05, cy, rng.uniform(0.5, 0.8), cy + 0.06)))
        out.append(("text", (m, img_b + 0.03, 1 - m, rng.uniform(0.85, 1 - m))))
    return out


def page_xml(name: str, elements, width: int = WIDTH, height: int = HEIGHT) -> str:
    rows = [f'<element label="background" polygon_x="0 {width} {width} 0" polygon_y="0 0 {height} {height}"/>']
    for label, (x1, y1, x2, y2) in elements:
        xs = [round(v * width, 1) for v in (x1, x2, x2, x1)]
        ys = [round(v * height, 1) for v in (y1, y1, y2, y2)]
        rows.append(f'<element label="{label}" polygon_x="{" ".join(map(str, xs))}" '
                    f'polygon_y="{" ".join(map(str, ys))}"/>')
    return (f'<?xml version="1.0"?>\n<annotation><filename>{name}.png</filename>'
            f"<size><width>{width}</width><height>{height}</height></size>\n<layout>\n"
            + "\n".join(rows) + "\n</layout></annotation>\n")


def write_pages(root: str, count: int, seed: int = 0) -> int:
    """Writes ROOT/layoutdata/annotations/page_XXXXX.xml; returns the number of pages."""
    folder = os.path.join(root, ANNOTATIONS)
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        name = f"page_{i:05d}"
        with open(os.path.join(folder, name + ".xml"), "w") as f:
            f.write(page_xml(name, _page(rng)))
    return count

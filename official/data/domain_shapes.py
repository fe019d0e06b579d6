"""Two image domains drawn from the same random scenes, for the translation small runs (tools.make_domains).

A scene is 1-3 shapes (ellipse, rectangle, triangle) of random size, place and saturated colour on a
vertical-gradient background. Pairs of domains (A, B):
- "outline_fill": A = the shapes' black outlines on white (a line drawing), B = the filled shapes;
- "night_day": A = the scene darkened to a quarter, tinted blue and with Gaussian noise (sigma 8 levels),
  B = the scene as drawn;
- "gray_colour" (colourisation, Sketch2Photo's stage 2): B = a scene whose colours follow from its content
  (ellipses red, rectangles green, triangles blue, a sand-coloured background of random brightness), A = such
  a scene in gray (PIL's 'L' luma, saved as 3 equal channels like the official `shoes_step2` files). A
  colouriser can recover B's colours from A's shapes and gray levels.
Each domain draws its own scenes, so the training sets are unpaired, as in CycleGAN's data; gray_colour's test
split is aligned (testA/i is testB/i in gray), so a colouriser's colour error can be measured.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

KINDS = ("outline_fill", "night_day", "gray_colour")
KIND_COLOURS = {"ellipse": (220, 40, 40), "rectangle": (40, 200, 60), "triangle": (50, 80, 230)}  # gray_colour
SAND = np.array([1.0, 0.88, 0.66])  # gray_colour background tint


def _shapes(rng: np.random.Generator, size: int) -> list[tuple[str, list[float], tuple[int, int, int]]]:
    out = []
    for _ in range(int(rng.integers(1, 4))):
        kind = ("ellipse", "rectangle", "triangle")[int(rng.integers(3))]
        w, h = rng.uniform(0.25, 0.55, 2) * size
        x0, y0 = rng.uniform(0, size - w), rng.uniform(0, size - h)
        hue = rng.uniform(0, 1)
        colour = tuple(int(255 * c) for c in _hue_to_rgb(hue))
        out.append((kind, [x0, y0, x0 + w, y0 + h], colour))
    return out


def _hue_to_rgb(h: float) -> tuple[float, float, float]:
    k = (np.array([5.0, 3.0, 1.0]) + h * 6.0) % 6.0
    return tuple(1.0 - np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0))


def _draw(draw: ImageDraw.ImageDraw, kind: str, box: list[float], fill, outline, width: int) -> None:
    x0, y0, x1, y1 = box
    if kind == "ellipse":
        draw.ellipse(box, fill=fill, outline=outline, width=width)
    elif kind == "rectangle":
        draw.rectangle(box, fill=fill, outline=outline, width=width)
    else:
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill, outline=outline, width=width)


def scene(rng: np.random.Generator, size: int, domain: str, kind: str) -> np.ndarray:
    """One (size, size, 3) uint8 image of `domain` ("A" or "B") of the pair `kind`."""
    if kind not in KINDS:
        raise ValueError(f"domain kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    shapes = _shapes(rng, size)
    width = max(size // 32, 1)
    if kind == "outline_fill" and domain == "A":
        image = Image.new("RGB", (size, size), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        for shape, box, _ in shapes:
            _draw(draw, shape, box, None, (0, 0, 0), width)
        return np.asarray(image)
    if kind == "gray_colour":
        top, bottom = rng.uniform(60, 120) * SAND, rng.uniform(150, 230) * SAND
        shapes = [(shape, box, KIND_COLOURS[shape]) for shape, box, _ in shapes]
    else:
        top, bottom = rng.uniform(40, 120, 3), rng.uniform(120, 220, 3)
    ramp = np.linspace(0.0, 1.0, size)[:, None, None]
    background = (top * (1 - ramp) + bottom * ramp) * np.ones((1, size, 1))
    image = Image.fromarray(background.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for shape, box, colour in shapes:
        _draw(draw, shape, box, colour, None, width)
    if kind == "gray_colour" and domain == "A":
        return np.asarray(image.convert("L").convert("RGB"))
    pixels = np.asarray(image).astype(np.float64)
    if kind == "night_day" and domain == "A":
        pixels = pixels * 0.25 * np.array([0.8, 0.9, 1.3]) + rng.normal(0.0, 8.0, pixels.shape)
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8)


def write_domains(out: str, kind: str, train: int, test: int, size: int, seed: int = 0) -> dict[str, int]:
    """Writes OUT/{train,test}{A,B}/NNNNN.png; returns the count per folder."""
    import os

    counts = {}
    for s, (split, count) in enumerate((("train", train), ("test", test))):
        for d, domain in enumerate("AB"):
            folder = os.path.join(out, f"{split}{domain}")
            os.makedirs(folder, exist_ok=True)
            aligned = kind == "gray_colour" and split == "test"  # testA/i is testB/i in gray
            rng = np.random.default_rng([seed, s, 1 if aligned else d])
            for i in range(count):
                Image.fromarray(scene(rng, size, domain, kind)).save(os.path.join(folder, f"{i:05d}.png"))
            counts[f"{split}{domain}"] = count
    return counts

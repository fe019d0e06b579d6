"""The card's small on-disk fixture (tests, quick checks), in the official layout: 4 white 140x140 sketches
with black strokes (trainA), 4 RGB "photos" (coloured ellipses on white, trainB), 2 noise-stroke images
(train_noise), 2 of each in testA / testB. Stage 2's root: the gray versions of the photos in trainA/testA."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageDraw

COLOURS = ((200, 40, 40), (40, 140, 60), (50, 70, 200), (210, 160, 30))


def _sketch(rng, size: int, strokes: int) -> Image.Image:
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    for _ in range(strokes):
        x0, y0, x1, y1 = (int(v) for v in rng.integers(10, size - 10, 4))
        draw.line((x0, y0, x1, y1), fill="black", width=3)
    return image


def _photo(rng, size: int, i: int) -> Image.Image:
    image = Image.new("RGB", (size, size), "white")
    cx, cy = (int(v) for v in rng.integers(size // 3, 2 * size // 3, 2))
    rx, ry = (int(v) for v in rng.integers(size // 6, size // 3, 2))
    ImageDraw.Draw(image).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=COLOURS[i % len(COLOURS)])
    return image


def write_fixture(root: str, size: int = 140, seed: int = 0) -> dict[str, str]:
    """Writes ROOT/stage1/{trainA,trainB,train_noise,testA,testB} and ROOT/stage2/{trainA,trainB,testA,testB}."""
    rng = np.random.default_rng(seed)
    stage1, stage2 = os.path.join(root, "stage1"), os.path.join(root, "stage2")
    for split, n in (("train", 4), ("test", 2)):
        for folder in (f"{split}A", f"{split}B"):
            os.makedirs(os.path.join(stage1, folder), exist_ok=True)
            os.makedirs(os.path.join(stage2, folder), exist_ok=True)
        for i in range(n):
            _sketch(rng, size, 4).save(os.path.join(stage1, f"{split}A", f"{i}.png"))
            photo = _photo(rng, size, i)
            photo.save(os.path.join(stage1, f"{split}B", f"{i}.png"))
            photo.save(os.path.join(stage2, f"{split}B", f"{i}.png"))
            photo.convert("L").convert("RGB").save(os.path.join(stage2, f"{split}A", f"{i}.png"))
    os.makedirs(os.path.join(stage1, "train_noise"), exist_ok=True)
    for i in range(2):
        _sketch(rng, size, 6).save(os.path.join(stage1, "train_noise", f"{i}.png"))
    return {"stage1": stage1, "stage2": stage2}

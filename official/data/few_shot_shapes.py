"""Generated few-shot translation data in imaginaire's layout (official/data/few_shot_images.py) for small runs.

A class is an appearance: a background colour, a foreground colour and a stripe frequency; an image is a
disc or square (the content's 'pose': position and size) drawn in its class's appearance, with pixel noise.
Translating content of one class with a style image of another should keep the shape and take the colours.
    ROOT/train/images_{content,style}/class_<k>/  (k < train_classes)
    ROOT/test/images_content/class_<k>/           (training classes: the content to translate)
    ROOT/test/images_style/class_<k>/             (the next test_classes classes: unseen in training)
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image


def class_appearance(k: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(1000 + k)
    hue = np.array([np.cos(2 * np.pi * (k * 0.37 + d / 3)) for d in range(3)])
    background = np.clip(128 + 100 * hue + rng.normal(0, 10, 3), 0, 255)
    foreground = np.clip(255 - background + rng.normal(0, 20, 3), 0, 255)
    return background, foreground, int(rng.integers(0, 4))


def draw(k: int, size: int, rng: np.random.Generator) -> np.ndarray:
    background, foreground, stripes = class_appearance(k)
    yy, xx = np.mgrid[0:size, 0:size] / size
    cy, cx, r = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.15, 0.3)
    mask = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r) if rng.random() < 0.5 else (
        (abs(yy - cy) < r * 0.85) & (abs(xx - cx) < r * 0.85))
    shade = 0.75 + 0.25 * np.cos(2 * np.pi * stripes * (xx + yy)) if stripes else np.ones_like(xx)
    image = np.where(mask[..., None], foreground * shade[..., None], background)
    return np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)


def write_set(root: str, train_classes: int, test_classes: int, per_class: int, size: int, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    counts = {}
    seen, unseen = range(train_classes), range(train_classes, train_classes + test_classes)
    for split, classes in (("train", (seen, seen)), ("test", (seen, unseen))):
        n = 0
        for kind, kind_classes in zip(("images_content", "images_style"), classes, strict=True):
            for k in kind_classes:
                folder = os.path.join(root, split, kind, f"class_{k:02d}")
                os.makedirs(folder, exist_ok=True)
                for i in range(per_class):
                    Image.fromarray(draw(k, size, rng)).save(os.path.join(folder, f"{i:04d}.jpg"), quality=95)
                    n += 1
        counts[split] = n
    return counts

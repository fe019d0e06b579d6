"""Writes the zoo's embedded real dataset: scikit-learn's handwritten digits as an ImageNet-style folder.

1,797 real 8x8 scans of 10 classes (UCI optical digits, shipped inside scikit-learn) are upsampled to
32x32 RGB PNGs and split deterministically, class by class, every 5th image of a class to val:
OUT/train/<digit>/<index>.png (1,433 images) and OUT/val/<digit>/<index>.png (364 images).

    python -m tools.make_digits --out data/digits
"""

from __future__ import annotations

import os
import shutil

import numpy as np
from absl import flags
from PIL import Image

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registered only when run as a program, so tests can import write_digits beside other tools."""
    flags.DEFINE_string("out", "data/digits", "Output folder (gets train/ and val/ inside).")
    flags.DEFINE_integer("size", 32, "Side of the written square images in pixels.")
    flags.DEFINE_integer("val_every", 5, "Every n-th image of each class goes to val.")
    flags.DEFINE_bool("force", False, "Rewrite the dataset even if OUT already holds one.")


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (n, 8, 8) scaled to 0-255, labels (n,)) of scikit-learn's digits."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    return images, digits.target.astype(np.int64)


def split_indices(labels: np.ndarray, val_every: int) -> tuple[list[int], list[int]]:
    """Deterministic stratified split: the k-th image of a class goes to val when k % val_every == 0."""
    train, val = [], []
    for c in np.unique(labels):
        for k, i in enumerate(np.flatnonzero(labels == c)):
            (val if k % val_every == 0 else train).append(int(i))
    return sorted(train), sorted(val)


def write_digits(out: str, size: int = 32, val_every: int = 5, force: bool = False) -> dict[str, int]:
    """Writes the folder dataset atomically (temp folder, then rename); returns counts per split."""
    marker = os.path.join(out, ".complete")
    if os.path.exists(marker) and not force:
        counts = {s: sum(len(f) for _, _, f in os.walk(os.path.join(out, s))) for s in ("train", "val")}
        print(f"digits already at {out} ({counts['train']} train / {counts['val']} val); --force rewrites")
        return counts
    images, labels = digits_arrays()
    train, val = split_indices(labels, val_every)
    tmp = f"{out.rstrip('/')}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    for split, indices in (("train", train), ("val", val)):
        for c in range(10):
            os.makedirs(os.path.join(tmp, split, str(c)), exist_ok=True)
        for i in indices:
            img = Image.fromarray(images[i], mode="L").resize((size, size), Image.BILINEAR).convert("RGB")
            img.save(os.path.join(tmp, split, str(labels[i]), f"{i:04d}.png"))
    with open(os.path.join(tmp, ".complete"), "w") as f:
        f.write(f"sklearn digits, size {size}, val_every {val_every}\n")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    os.replace(tmp, out)
    counts = {"train": len(train), "val": len(val)}
    print(f"wrote {counts['train']} train / {counts['val']} val digit images ({size}x{size} RGB PNG) to {out}")
    return counts


def main(argv: list[str]) -> int:
    del argv
    write_digits(FLAGS.out, FLAGS.size, FLAGS.val_every, FLAGS.force)
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

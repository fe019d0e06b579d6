"""Writes generated thin-structure images in TopoGAN's layout (images + per-image diagrams) for the small runs:
    python -m tools.make_thin_structures --out=data/membranes                 # Voronoi cell membranes
    python -m tools.make_thin_structures --kind=roads --out=data/roads        # crossing road-like curves
ROOT/{train,test}/images/*.png (64x64 grayscale) and ROOT/{train,test}/diagrams/*.npy (dimension-1 diagrams,
official/data/topology_images.py). Written to a temporary folder and renamed with a `.complete` marker.
"""

from __future__ import annotations

import os

import numpy as np
from absl import flags
from PIL import Image

from official.core.errors import BadValueError
from official.core.file_io import atomic_directory
from official.data import thin_structures, topology_images
from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder (gets train/ and test/, each images/ + diagrams/).", required=True)
    flags.DEFINE_enum("kind", "membranes", list(thin_structures.KINDS), "membranes (Voronoi cells) or roads (curves).")
    flags.DEFINE_integer("train", 256, "Training images.")
    flags.DEFINE_integer("test", 64, "Test images.")
    flags.DEFINE_integer("size", 64, "Image side in pixels.")
    flags.DEFINE_float("gap_fraction", 0.25, "membranes: fraction of images with one 3 px gap in a membrane.")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def write(out: str, kind: str, train: int, test: int, size: int = 64, seed: int = 0, gap_fraction: float = 0.25,
          force: bool = False) -> dict[str, int]:
    if train < 1 or test < 1 or size < 16:
        raise BadValueError(f"--train and --test must be >= 1 and --size >= 16, got {train}, {test}, {size}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"a thin-structure set is already at {out}; --force rewrites it")
        return {}
    rng = np.random.default_rng(seed)
    with atomic_directory(out, f"make_thin_structures kind={kind} train={train} test={test} size={size} seed={seed}") as tmp:
        for split, count in (("train", train), ("test", test)):
            folder = os.path.join(tmp, split, "images")
            os.makedirs(folder)
            for i in range(count):
                Image.fromarray(thin_structures.draw(kind, rng, size, gap_fraction)).save(os.path.join(folder, f"{i:05d}.png"))
            topology_images.write_diagrams(tmp, split, dimension=1)
            print(f"{split}: {count} images and diagrams")
    return {"train": train, "test": test}


def main(argv: list[str]) -> None:
    del argv
    counts = write(FLAGS.out, FLAGS.kind, FLAGS.train, FLAGS.test, FLAGS.size, FLAGS.seed, FLAGS.gap_fraction, FLAGS.force)
    if counts:
        print(f"wrote {FLAGS.kind} to {FLAGS.out}: {counts}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

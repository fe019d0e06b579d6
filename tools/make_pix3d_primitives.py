"""Writes rendered primitives (research/three_d/mask2cad/synthetic.py) as a Pix3D release, for Mask2CAD.

4 CAD models (2 chairs, 2 desks: asymmetric box assemblies), one posed model per 64 x 64 image, numpy
z-buffer renders. Layout as the real Pix3D: img/<category>/NNNN.png, mask/<category>/NNNN.png,
model/<category>/<name>/model.obj, pix3d.json (rot_mat, trans_mat, focal_length in mm, bbox, ...), plus
Mesh R-CNN-style split files pix3d_s1_train.json / pix3d_s1_test.json (COCO format, images[].file_name).
    python -m tools.make_pix3d_primitives --out=data/pix3d_primitives [--train=320 --test=100 --seed=0]
The set is written to a temporary folder and renamed into place with a `.complete` marker; an existing
complete set is kept unless --force.
"""

from __future__ import annotations

import json
import os
import sys

from absl import app, flags

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder (the release root holding pix3d.json).")
    flags.DEFINE_integer("train", 320, "Training images (pix3d_s1_train.json).")
    flags.DEFINE_integer("test", 100, "Test images (pix3d_s1_test.json).")
    flags.DEFINE_integer("size", 64, "Image side in pixels.")
    flags.DEFINE_integer("seed", 0, "Random seed of models' poses and image noise.")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def write_split(path: str, records: list[dict]) -> None:
    """A COCO-format split JSON naming its images (Mesh R-CNN's pix3d_s1_*.json keep images[].file_name)."""
    images = [{"id": i, "file_name": r["img"], "width": r["img_size"][0], "height": r["img_size"][1]}
              for i, r in enumerate(records)]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"images": images}, f)


def write_pix3d_primitives(out: str, train: int = 320, test: int = 100, size: int = 64, seed: int = 0,
                           force: bool = False) -> dict[str, int]:
    """Writes the release atomically; returns {split: images} ({} when a complete set is kept)."""
    from official.core.file_io import atomic_directory
    from research.three_d.mask2cad import synthetic

    if train < 1 or test < 1:
        raise ValueError(f"--train and --test must be >= 1, got {train}, {test}")
    if size < 32:
        raise ValueError(f"--size must be >= 32 (objects must fit whole), got {size}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"Pix3D primitives already at {out}; --force rewrites")
        return {}
    with atomic_directory(out, f"make_pix3d_primitives train={train} test={test} size={size} seed={seed}") as tmp:
        print(f"rendering {train + test} images of {size} px ...", flush=True)
        json_path = synthetic.write_pix3d(tmp, train + test, seed=seed, size=size, focal=80.0 * size / 64)
        with open(json_path, encoding="utf-8") as f:
            records = json.load(f)
        write_split(os.path.join(tmp, "pix3d_s1_train.json"), records[:train])
        write_split(os.path.join(tmp, "pix3d_s1_test.json"), records[train:])
    return {"train": train, "test": test}


def main(argv: list[str]) -> None:
    del argv
    if not FLAGS.out:
        sys.exit("make_pix3d_primitives: --out is required")
    try:
        counts = write_pix3d_primitives(FLAGS.out, FLAGS.train, FLAGS.test, FLAGS.size, FLAGS.seed, FLAGS.force)
    except (ValueError, OSError) as err:
        sys.exit(f"make_pix3d_primitives: {err}")
    if counts:
        print(f"wrote a Pix3D release to {FLAGS.out}: {counts} images, 4 CAD models (pix3d.json, "
              "pix3d_s1_train.json, pix3d_s1_test.json)")


if __name__ == "__main__":
    define_flags()
    app.run(main)

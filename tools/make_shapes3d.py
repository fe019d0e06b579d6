"""Writes primitive shapes (official/data/shapes3d.py) in a real 3D dataset's on-disk layout.

One class per primitive kind (sphere, box, cylinder, cone, torus, capsule). Each layout's writer lives
beside its reader in official/data/, so a reader and the files it is tested on share one definition:
    python -m tools.make_shapes3d --layout=modelnet40_h5 --out=data/shapes_modelnet
    python -m tools.make_shapes3d --layout=onet --out=data/shapes_onet --per_class=16
The set is written to a temporary folder and renamed into place, with a `.complete` marker; an existing
complete set is kept unless --force.
"""

from __future__ import annotations

import importlib
import os
import sys

import numpy as np
from absl import app, flags

from official.core.file_io import atomic_directory
from official.data import shapes3d

FLAGS = flags.FLAGS

# layout -> (module, writer): writer(out, splits, rng) -> {split: examples written}, where splits maps
# "train"/"val"/"test" to [(class index, class name, trimesh mesh)].
LAYOUTS: dict[str, tuple[str, str]] = {
    "pcn": ("official.data.point_completion", "write_pcn"),
    "completion3d": ("official.data.point_completion", "write_completion3d"),
    "modelnet40_h5": ("official.data.modelnet40", "write_modelnet40_h5"),
    "pc15k": ("official.data.shapenet_pc15k", "write_pc15k"),
    "onet": ("official.data.onet_shapes", "write_onet"),
    "scannet_pairs": ("official.data.scannet_pairs", "write_scannet_pairs"),
}


def define_flags() -> None:
    flags.DEFINE_enum("layout", None, sorted(LAYOUTS) or ["none"], "On-disk layout to write.")
    flags.DEFINE_string("out", None, "Output folder.")
    flags.DEFINE_integer("per_class", 12, "Training shapes per class.")
    flags.DEFINE_integer("test_per_class", 4, "Test (and validation) shapes per class.")
    flags.DEFINE_list("classes", list(shapes3d.PRIMITIVES), f"Primitive kinds, one class each; of {shapes3d.PRIMITIVES}.")
    flags.DEFINE_integer("seed", 0, "Random seed (meshes and samples).")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def writer_for(layout: str):
    """The layout's writer function; ValueError naming the layout when it is unknown."""
    if layout not in LAYOUTS:
        raise ValueError(f"make_shapes3d: --layout must be one of {sorted(LAYOUTS)}, got {layout!r}")
    module, name = LAYOUTS[layout]
    return getattr(importlib.import_module(module), name)


def write_shapes3d(layout: str, out: str, per_class: int = 12, test_per_class: int = 4,
                   classes: tuple[str, ...] = shapes3d.PRIMITIVES, seed: int = 0,
                   force: bool = False) -> dict[str, int]:
    """Writes the set atomically; returns the writer's {split: examples} (or the existing set's marker)."""
    bad = [c for c in classes if c not in shapes3d.PRIMITIVES]
    if bad:
        raise ValueError(f"make_shapes3d: --classes has unknown kinds {bad}; known: {shapes3d.PRIMITIVES}")
    write = writer_for(layout)
    marker = os.path.join(out, ".complete")
    if os.path.exists(marker) and not force:
        print(f"{layout} set already at {out}; --force rewrites")
        return {}
    splits = {
        "train": shapes3d.dataset_meshes(tuple(classes), per_class, seed),
        "val": shapes3d.dataset_meshes(tuple(classes), test_per_class, seed + 1),
        "test": shapes3d.dataset_meshes(tuple(classes), test_per_class, seed + 2),
    }
    with atomic_directory(out, f"make_shapes3d layout={layout} seed={seed} classes={','.join(classes)}") as tmp:
        counts = write(tmp, splits, np.random.default_rng(seed + 3))
    return counts


def main(argv: list[str]) -> None:
    del argv
    if not FLAGS.layout or not FLAGS.out:
        sys.exit("make_shapes3d: --layout and --out are required")
    try:
        counts = write_shapes3d(FLAGS.layout, FLAGS.out, FLAGS.per_class, FLAGS.test_per_class,
                                tuple(FLAGS.classes), FLAGS.seed, FLAGS.force)
    except (ValueError, OSError) as err:
        sys.exit(f"make_shapes3d: {err}")
    if counts:
        print(f"wrote {FLAGS.layout} to {FLAGS.out}: {counts}")


if __name__ == "__main__":
    define_flags()
    app.run(main)

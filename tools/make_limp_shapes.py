"""Writes deformable "subjects x poses" capsules in the FAUST-2500 layout that official/data/faust.py reads.

Subject s has its own anisotropic axis scales (a change of intrinsic metric), pose p bends the capsule's
upper half by an angle shared by all subjects (a near-isometry), all with one template connectivity, as
FAUST's 10 subjects x 10 poses; index = s * poses + p, so identity = index // poses
(research/three_d/limp/synthetic.py):
    python -m tools.make_limp_shapes --out=data/limp_capsules          # 10 x 10, 194 vertices, mesh.vert/.triv
    python -m tools.make_limp_shapes --out=data/limp_off --format=off --subjects=4 --poses=3
Train with `python -m tools.train --experiment=limp_tiny_capsules` (first 80 meshes train, last 20 test).
The set is written to a temporary folder and renamed into place with a `.complete` marker; an existing
complete set is kept unless --force.
"""

from __future__ import annotations

import os
import sys

from absl import app, flags

from official.core.file_io import atomic_directory

FLAGS = flags.FLAGS
FORMATS = ("vert_triv", "off", "ply")


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output dataset root (raw/tr_reg_%03d_2000... is written inside).")
    flags.DEFINE_integer("subjects", 10, "Subjects (per-subject anisotropic scales); FAUST has 10.")
    flags.DEFINE_integer("poses", 10, "Poses per subject (bend angles shared by all subjects); FAUST has 10.")
    flags.DEFINE_enum("format", "vert_triv", list(FORMATS),
                      "vert_triv: the authors' raw/tr_reg_%03d_2000/{mesh.vert,mesh.triv}; off / ply: one mesh file each.")
    flags.DEFINE_integer("rings", 16, "Capsule rings along its axis (vertices = rings * around + 2).")
    flags.DEFINE_integer("around", 12, "Vertices per ring.")
    flags.DEFINE_float("max_degrees", 75.0, "Largest bend angle of the poses (degrees).")
    flags.DEFINE_integer("seed", 0, "Random seed of the subjects' scales and the poses' angle jitter.")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def write_limp_shapes(out: str, subjects: int = 10, poses: int = 10, fmt: str = "vert_triv", rings: int = 16,
                      around: int = 12, max_degrees: float = 75.0, seed: int = 0, force: bool = False) -> dict:
    """Writes the set atomically; returns {"meshes", "vertices", "faces"} ({} when a complete set is kept)."""
    from research.three_d.limp.synthetic import random_subjects_and_poses, write_fixture

    if subjects < 1 or poses < 2:
        raise ValueError(f"--subjects must be >= 1 and --poses >= 2 (pairs of poses), got {subjects}, {poses}")
    if rings < 2 or around < 3:
        raise ValueError(f"--rings must be >= 2 and --around >= 3, got {rings}, {around}")
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {FORMATS}, got {fmt!r}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"LIMP shapes already at {out}; --force rewrites")
        return {}
    scales, degrees = random_subjects_and_poses(subjects, poses, seed, max_degrees=max_degrees)
    marker = f"make_limp_shapes subjects={subjects} poses={poses} format={fmt} rings={rings} around={around} seed={seed}"
    with atomic_directory(out, marker) as tmp:
        arrays = write_fixture(tmp, fmt, subjects, poses, scales, degrees, rings, around)
    return {"meshes": len(arrays["vertices"]), "vertices": arrays["vertices"].shape[1], "faces": len(arrays["faces"])}


def main(argv: list[str]) -> None:
    del argv
    if not FLAGS.out:
        sys.exit("make_limp_shapes: --out is required")
    try:
        counts = write_limp_shapes(FLAGS.out, FLAGS.subjects, FLAGS.poses, FLAGS.format, FLAGS.rings, FLAGS.around,
                                   FLAGS.max_degrees, FLAGS.seed, FLAGS.force)
    except (ValueError, OSError) as err:
        sys.exit(f"make_limp_shapes: {err}")
    if counts:
        print(f"wrote {counts['meshes']} meshes ({counts['vertices']} vertices, {counts['faces']} faces) "
              f"in the FAUST-2500 layout to {FLAGS.out}/raw")


if __name__ == "__main__":
    define_flags()
    app.run(main)

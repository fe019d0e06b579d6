"""Writes generated faces with ages 1-90 in a real dataset's naming, for the face-aging small runs
(official/data/synthetic_faces.py draws them; official/data/face_ages.py reads them):
    python -m tools.make_faces --out=data/faces                     # CACD2000 names (identities known)
    python -m tools.make_faces --out=data/utk --format=utkface      # UTKFace names (no identities)
The images go to a temporary folder renamed into place with a `.complete` marker; an existing complete set
is kept unless --force. Splits come from the reader (hashed identities for CACD, hashed names for UTKFace).
"""

from __future__ import annotations

import os

from absl import flags

from official.core.errors import BadValueError
from official.core.file_io import atomic_directory
from official.data import synthetic_faces
from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder (gets the JPEG files directly).", required=True)
    flags.DEFINE_enum("format", "cacd", list(synthetic_faces.FORMATS),
                      "File naming: cacd (<age>_<First>_<Last>_<nnnn>.jpg, identity in the name) or utkface "
                      "(<age>_<gender>_<race>_<date>.jpg.chip.jpg).")
    flags.DEFINE_integer("identities", 20, "Number of people.")
    flags.DEFINE_integer("per_identity", 25, "Images per person (ages drawn uniformly in 1-90).")
    flags.DEFINE_integer("size", 64, "Image side in pixels.")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def write(out: str, fmt: str, identities: int, per_identity: int, size: int, seed: int, force: bool = False) -> int:
    if identities < 1 or per_identity < 1 or size < 16:
        raise BadValueError(f"--identities and --per_identity must be >= 1 and --size >= 16, got {identities}, "
                            f"{per_identity}, {size}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"a face set is already at {out}; --force rewrites it")
        return 0
    with atomic_directory(out, f"make_faces format={fmt} identities={identities} per_identity={per_identity} "
                               f"size={size} seed={seed}") as tmp:
        written = synthetic_faces.write_faces(tmp, fmt, identities, per_identity, size, seed)
    return len(written)


def main(argv: list[str]) -> None:
    del argv
    n = write(FLAGS.out, FLAGS.format, FLAGS.identities, FLAGS.per_identity, FLAGS.size, FLAGS.seed, FLAGS.force)
    if n:
        print(f"wrote {n} {FLAGS.format} faces to {FLAGS.out}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

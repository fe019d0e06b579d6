"""Writes two unpaired image domains in CycleGAN's layout (trainA/, trainB/, testA/, testB/) for the
translation small runs (official/data/domain_shapes.py draws them):
    python -m tools.make_domains --out=data/domains                     # line drawings <-> filled shapes
    python -m tools.make_domains --kind=night_day --out=data/night_day  # dark noisy <-> day-lit scenes
    python -m tools.make_domains --kind=gray_colour --out=data/gray_colour  # gray <-> coloured (colourisation)
The set is written to a temporary folder and renamed into place with a `.complete` marker; an existing
complete set is kept unless --force.
"""

from __future__ import annotations

import os

from absl import flags

from official.core.errors import BadValueError
from official.core.file_io import atomic_directory
from official.data import domain_shapes
from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder (gets trainA/, trainB/, testA/, testB/).", required=True)
    flags.DEFINE_enum("kind", "outline_fill", list(domain_shapes.KINDS),
                      "Pair of domains: outline_fill (A line drawings, B filled shapes), night_day (A dark noisy, "
                      "B day-lit renders of the same kind of scene) or gray_colour (A gray, B coloured scenes whose "
                      "colours follow from the shapes; test pairs aligned).")
    flags.DEFINE_integer("train", 200, "Training images per domain.")
    flags.DEFINE_integer("test", 50, "Test images per domain.")
    flags.DEFINE_integer("size", 36, "Image side in pixels.")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def write(out: str, kind: str, train: int, test: int, size: int, seed: int, force: bool = False) -> dict[str, int]:
    if train < 1 or test < 1 or size < 8:
        raise BadValueError(f"--train and --test must be >= 1 and --size >= 8, got {train}, {test}, {size}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"a domain set is already at {out}; --force rewrites it")
        return {}
    with atomic_directory(out, f"make_domains kind={kind} train={train} test={test} size={size} seed={seed}") as tmp:
        counts = domain_shapes.write_domains(tmp, kind, train, test, size, seed)
    return counts


def main(argv: list[str]) -> None:
    del argv
    counts = write(FLAGS.out, FLAGS.kind, FLAGS.train, FLAGS.test, FLAGS.size, FLAGS.seed, FLAGS.force)
    if counts:
        print(f"wrote {FLAGS.kind} domains to {FLAGS.out}: {counts}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

"""Writes synthetic magazine pages in the Magazine dataset's XML layout for NDN's small run:
    python -m tools.make_layouts --out=data/magazine_synth
(official/data/layout_synth.py draws them: headline, image, text columns, captions over images).
The set is written to a temporary folder and renamed into place with a `.complete` marker.
"""

from __future__ import annotations

import os

from absl import flags

from official.core.errors import BadValueError
from official.core.file_io import atomic_directory
from official.data import layout_synth
from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output root (gets layoutdata/annotations/*.xml).", required=True)
    flags.DEFINE_integer("pages", 600, "Pages to write (the reader splits them 85/5/10 %).")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def write(out: str, pages: int, seed: int, force: bool = False) -> int:
    if pages < 20:
        raise BadValueError(f"--pages must be >= 20 (the 5 % validation split needs one page), got {pages}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"a layout set is already at {out}; --force rewrites it")
        return 0
    with atomic_directory(out, f"make_layouts pages={pages} seed={seed}") as tmp:
        return layout_synth.write_pages(tmp, pages, seed)


def main(argv: list[str]) -> None:
    del argv
    n = write(FLAGS.out, FLAGS.pages, FLAGS.seed, FLAGS.force)
    if n:
        print(f"wrote {n} magazine pages to {FLAGS.out}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

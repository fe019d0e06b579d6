"""Writes generated few-shot translation data in imaginaire's layout for the COCO-FUNIT small run
(official/data/few_shot_shapes.py draws it):
    python -m tools.make_few_shot --out=data/few_shot
gives data/few_shot/{train,test}/images_{content,style}/class_<k>/*.jpg (test styles: classes unseen in training).
The set is written to a temporary folder and renamed into place with a `.complete` marker.
"""

from __future__ import annotations

import os

from absl import flags

from official.core.errors import BadValueError
from official.core.file_io import atomic_directory
from official.data import few_shot_shapes
from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder (gets train/ and test/).", required=True)
    flags.DEFINE_integer("train_classes", 3, "Training classes.")
    flags.DEFINE_integer("test_classes", 2, "Unseen test classes.")
    flags.DEFINE_integer("per_class", 40, "Images per class in each of images_content/ and images_style/.")
    flags.DEFINE_integer("size", 40, "Image side in pixels.")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def write(out: str, train_classes: int, test_classes: int, per_class: int, size: int, seed: int,
          force: bool = False) -> dict[str, int]:
    if min(train_classes, test_classes, per_class) < 1 or size < 8:
        raise BadValueError(f"--train_classes, --test_classes, --per_class must be >= 1 and --size >= 8, got "
                            f"{train_classes}, {test_classes}, {per_class}, {size}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"a few-shot set is already at {out}; --force rewrites it")
        return {}
    with atomic_directory(out, f"make_few_shot {train_classes} {test_classes} {per_class} {size} {seed}") as tmp:
        return few_shot_shapes.write_set(tmp, train_classes, test_classes, per_class, size, seed)


def main(argv: list[str]) -> None:
    del argv
    counts = write(FLAGS.out, FLAGS.train_classes, FLAGS.test_classes, FLAGS.per_class, FLAGS.size, FLAGS.seed,
                   FLAGS.force)
    if counts:
        print(f"wrote few-shot classes to {FLAGS.out}: {counts} images")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

r"""Converts a COCO instances JSON + image folder into sharded TFRecords.

    python -m tools.coco_to_tfrecord --json data/shapes/annotations/instances_train.json \
        --image_dir data/shapes/train --output data/shapes/tfrecord/train --num_shards 4

writes data/shapes/tfrecord/train-0000k-of-00004.tfrecord and train.categories.json (the category
map). Read them back with `official.data.coco_tfrecord.tfrecord_dataset("…/train-*-of-*.tfrecord")`.
Malformed annotations are logged with their id and skipped (counts printed at the end); a missing
image file stops the conversion before anything is written.
"""

from __future__ import annotations

import time

from absl import flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the CLI flags (only when run as a program, so importing this module for its
    functions never clashes with other tools' flags of the same name)."""
    flags.DEFINE_string("json", None, "COCO instances JSON (e.g. annotations/instances_val2017.json).")
    flags.DEFINE_string("image_dir", None, "Folder that the JSON's images[].file_name are relative to.")
    flags.DEFINE_string("output", None, "Output prefix; shards are PREFIX-0000k-of-0000n.tfrecord.")
    flags.DEFINE_integer("num_shards", 8, "Number of output shards (image i goes to shard i % n).")
    flags.DEFINE_integer("num_workers", 4, "Shards written in parallel (threads).")
    flags.DEFINE_bool("skip_empty", False, "Leave out images that have no valid annotation.")
    flags.mark_flags_as_required(["json", "image_dir", "output"])


def main(argv: list[str]) -> None:
    del argv
    from official.data.coco import CocoAnnotations
    from official.data.coco_tfrecord import category_map_path, write_shards

    start = time.time()
    annotations = CocoAnnotations.load(FLAGS.json)
    shards = write_shards(
        annotations,
        FLAGS.image_dir,
        FLAGS.output,
        FLAGS.num_shards,
        skip_empty=FLAGS.skip_empty,
        num_workers=FLAGS.num_workers,
    )
    skipped = ", ".join(f"{k}={v}" for k, v in annotations.skipped.items() if v) or "none"
    print(f"wrote {len(shards)} shards ({shards[0]} ...) in {time.time() - start:.1f}s")
    print(f"category map: {category_map_path(FLAGS.output)}")
    print(
        f"images: {len(annotations.images)}, annotations kept: {len(annotations.annotations)}, skipped: {skipped}"
    )


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

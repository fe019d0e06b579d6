"""Image classification TFRecord shards: features image/encoded (bytes) and image/class/label (int64).

This is the tf-slim / Model Garden ImageNet schema. tf-slim shards store labels 1..1000 with 0 meaning
background: set `label_offset: 1` in the data config for those. Shards are written to a temp name and
renamed when complete, so a killed conversion never leaves a shard that looks whole.
"""

from __future__ import annotations

import glob
import os

import tensorflow as tf

from official.data.imagefolder import DatasetError

FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/class/label": tf.io.FixedLenFeature([], tf.int64),
}


def make_example(encoded: bytes, label: int) -> tf.train.Example:
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded])),
                "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
            }
        )
    )


def write_shards(pairs: list[tuple[bytes, int]], pattern: str, num_shards: int) -> list[str]:
    """Writes (encoded, label) pairs round-robin into `pattern % (i, n)` shards; returns their paths."""
    paths = [pattern % (i, num_shards) for i in range(num_shards)]
    os.makedirs(os.path.dirname(os.path.abspath(paths[0])), exist_ok=True)
    writers = [tf.io.TFRecordWriter(p + ".tmp") for p in paths]
    for i, (encoded, label) in enumerate(pairs):
        writers[i % num_shards].write(make_example(encoded, label).SerializeToString())
    for w in writers:
        w.close()
    for p in paths:
        os.replace(p + ".tmp", p)
    return paths


def list_shards(file_pattern: str) -> list[str]:
    files = sorted(glob.glob(file_pattern))
    if not files:
        raise DatasetError(f"{file_pattern}: no TFRecord files match")
    return files


def count_records(files: list[str]) -> int:
    return sum(1 for f in files for _ in tf.data.TFRecordDataset(f))


def tfrecord_examples(
    file_pattern: str,
    label_offset: int = 0,
    files: list[str] | None = None,
    shuffle: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Dataset of {"encoded", "label", "source"} from the shards matching `file_pattern`."""
    files = files if files is not None else list_shards(file_pattern)
    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(
        lambda f: tf.data.TFRecordDataset(f).map(lambda r: (r, f)),
        cycle_length=min(8, len(files)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )

    def parse(record: tf.Tensor, source: tf.Tensor) -> dict:
        parsed = tf.io.parse_single_example(record, FEATURES)
        return {
            "encoded": parsed["image/encoded"],
            "label": parsed["image/class/label"] - label_offset,
            "source": source,
        }

    return ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE)

"""Image classification in the ImageNet folder layout: ROOT/<class_name>/<image file>.

Labels are the index of the class folder in sorted order (torchvision's and Keras' convention), so the
same folder gives the same labels everywhere. A missing root, a root without class folders or a class
list that does not match the one expected is an error naming the path.
"""

from __future__ import annotations

import os

import tensorflow as tf

from official.core.errors import UserError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".JPEG", ".JPG", ".PNG")


class DatasetError(UserError, ValueError):
    """A dataset path or schema is wrong; the message names the file or field."""


def list_image_folder(root: str) -> tuple[list[str], list[int], list[str]]:
    """Returns (paths, labels, class_names) of ROOT/<class>/<file>, sorted for determinism."""
    if not os.path.isdir(root):
        raise DatasetError(f"{root}: image folder does not exist")
    class_names = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not class_names:
        raise DatasetError(f"{root}: no class folders found (expected ROOT/<class_name>/<image>)")
    paths, labels = [], []
    for label, name in enumerate(class_names):
        folder = os.path.join(root, name)
        for dirpath, _, files in sorted(os.walk(folder)):
            for f in sorted(files):
                if f.endswith(IMAGE_EXTENSIONS):
                    paths.append(os.path.join(dirpath, f))
                    labels.append(label)
    if not paths:
        raise DatasetError(f"{root}: the class folders hold no images ({', '.join(IMAGE_EXTENSIONS[:5])})")
    return paths, labels, class_names


def image_folder_examples(
    root: str, shuffle: bool = False, seed: int | None = None, num_shards: int = 1, shard_index: int = 0
) -> tuple[tf.data.Dataset, int, list[str]]:
    """Dataset of {"encoded", "label", "source"} (file bytes not yet decoded), size, class names.

    Sharding and shuffling act on the file list, before any file is read (cheap even for ImageNet).
    """
    paths, labels, class_names = list_image_folder(root)
    return file_examples(paths, labels, shuffle, seed, num_shards, shard_index), len(paths), class_names


def file_examples(
    paths: list[str], labels: list[int], shuffle: bool = False, seed: int | None = None, num_shards: int = 1,
    shard_index: int = 0,
) -> tf.data.Dataset:
    """{"encoded", "label", "source"} of listed image files (any layout reader's (paths, labels))."""
    ds = tf.data.Dataset.from_tensor_slices({"source": paths, "label": tf.constant(labels, tf.int64)})
    if num_shards > 1:
        ds = ds.shard(num_shards, shard_index)
    if shuffle:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)

    def read(example: dict) -> dict:
        return {
            "encoded": tf.io.read_file(example["source"]),
            "label": example["label"],
            "source": example["source"],
        }

    return ds.map(read, num_parallel_calls=tf.data.AUTOTUNE)

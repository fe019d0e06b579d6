"""TFRecord storage of COCO detection data: the feature schema, the sharded writer and the reader.

One `tf.train.Example` per image; the image file's bytes are stored unchanged (no re-encoding), boxes
as float32 pixels, so reading the shards gives exactly what `coco.coco_dataset` gives from the JSON:

    image/encoded               bytes     the original file bytes
    image/format                bytes     "jpeg" | "png" | ... (from the file extension)
    image/filename              bytes     images[].file_name
    image/source_id             int64     COCO image id
    image/height, image/width   int64     from the JSON
    image/object/bbox           float[4N] x1, y1, x2, y2 per object, pixels (x, y, x+w, y+h)
    image/object/class/index    int64[N]  contiguous class index
    image/object/class/category_id int64[N] COCO category id (so a record is readable on its own)
    image/object/is_crowd       int64[N]  iscrowd
    image/object/area           float[N]  the annotation's area (w*h when the JSON has none)
    image/object/id             int64[N]  annotation id

Shards are `PREFIX-00000-of-00008.tfrecord`; the category map (categories, index_to_id) is written
beside them as `PREFIX.categories.json` (a name that `PREFIX-*` patterns do not match). Every file
is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import concurrent.futures
import glob
import json
import os
import re
from typing import Any

import tensorflow as tf

from official.core.errors import BadValueError, PathNotFoundError
from official.data.coco import CocoAnnotations, decode_image, image_paths
from official.data.coco_annotations import CocoFormatError

_SHARD_SUFFIX = re.compile(r"-\d{5}-of-\d{5}\.tfrecord$")
_FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".bmp": "bmp", ".gif": "gif"}


def shard_paths(output_prefix: str, num_shards: int) -> list[str]:
    return [f"{output_prefix}-{k:05d}-of-{num_shards:05d}.tfrecord" for k in range(num_shards)]


def category_map_path(output_prefix: str) -> str:
    return f"{output_prefix}.categories.json"


# --- writing --------------------------------------------------------------------------------------
def _bytes(values: list[bytes]) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def _ints(values: list[int]) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def _floats(values: list[float]) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def make_example(
    image_bytes: bytes, image_info: dict[str, Any], annotations: CocoAnnotations
) -> tf.train.Example:
    """The Example of one image (`image_info` is one of `annotations.images`)."""
    anns = annotations.image_annotations(image_info["id"])
    boxes, classes, crowd = annotations.image_targets(image_info["id"])
    ext = os.path.splitext(image_info["file_name"])[1].lower()
    feature = {
        "image/encoded": _bytes([image_bytes]),
        "image/format": _bytes([_FORMATS.get(ext, ext.lstrip(".")).encode()]),
        "image/filename": _bytes([image_info["file_name"].encode("utf-8")]),
        "image/source_id": _ints([image_info["id"]]),
        "image/height": _ints([image_info["height"]]),
        "image/width": _ints([image_info["width"]]),
        "image/object/bbox": _floats([v for box in boxes for v in box]),
        "image/object/class/index": _ints(classes),
        "image/object/class/category_id": _ints([a["category_id"] for a in anns]),
        "image/object/is_crowd": _ints([int(c) for c in crowd]),
        "image/object/area": _floats([float(a.get("area", a["bbox"][2] * a["bbox"][3])) for a in anns]),
        "image/object/id": _ints([a["id"] for a in anns]),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature))


def _write_shard(path: str, items: list[tuple[str, dict[str, Any]]], annotations: CocoAnnotations) -> int:
    tmp = f"{path}.tmp-{os.getpid()}"
    with tf.io.TFRecordWriter(tmp) as writer:
        for image_path, info in items:
            with open(image_path, "rb") as f:
                writer.write(make_example(f.read(), info, annotations).SerializeToString())
    os.replace(tmp, path)
    return len(items)


def write_shards(
    annotations: CocoAnnotations,
    image_dir: str,
    output_prefix: str,
    num_shards: int,
    skip_empty: bool = False,
    num_workers: int = 1,
) -> list[str]:
    """Writes all images of `annotations` into `num_shards` shards plus the category map.

    Image i (in JSON order) goes to shard i % num_shards, so every shard holds a spread of the file.
    A missing image is a FileNotFoundError before anything is written. Returns the shard paths.
    """
    if num_shards < 1:
        raise BadValueError(f"num_shards: must be >= 1, got {num_shards}")
    paths = image_paths(annotations, image_dir)
    items = list(zip(paths, annotations.images, strict=True))
    if skip_empty:
        items = [(p, info) for p, info in items if annotations.image_annotations(info["id"])]
    out_dir = os.path.dirname(output_prefix)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    shards = shard_paths(output_prefix, num_shards)
    jobs = [(shards[k], items[k::num_shards]) for k in range(num_shards)]
    # Threads: the work is file reads and TFRecord writes, which release the GIL.
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, num_workers)) as pool:
        list(pool.map(lambda job: _write_shard(job[0], job[1], annotations), jobs))
    meta = {
        "categories": annotations.categories,
        "index_to_id": annotations.index_to_id,
        "num_images": len(items),
        "num_shards": num_shards,
        "source": annotations.source,
        "skipped_annotations": annotations.skipped,
    }
    map_path = category_map_path(output_prefix)
    tmp = f"{map_path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    os.replace(tmp, map_path)
    return shards


# --- reading --------------------------------------------------------------------------------------
FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/format": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "image/filename": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "image/source_id": tf.io.FixedLenFeature([], tf.int64),
    "image/height": tf.io.FixedLenFeature([], tf.int64),
    "image/width": tf.io.FixedLenFeature([], tf.int64),
    "image/object/bbox": tf.io.RaggedFeature(tf.float32),
    "image/object/class/index": tf.io.RaggedFeature(tf.int64),
    "image/object/class/category_id": tf.io.RaggedFeature(tf.int64),
    "image/object/is_crowd": tf.io.RaggedFeature(tf.int64),
    "image/object/area": tf.io.RaggedFeature(tf.float32),
    "image/object/id": tf.io.RaggedFeature(tf.int64),
}


def parse_example(serialized: tf.Tensor, raw: bool = False) -> dict[str, tf.Tensor]:
    """One serialized Example -> the raw dict of `coco.coco_dataset` (`raw=True`: all features,
    undecoded, keyed by their feature names)."""
    f = tf.io.parse_single_example(serialized, FEATURES)
    if raw:
        return f
    return {
        "image": decode_image(f["image/encoded"]),
        "image_id": f["image/source_id"],
        "boxes": tf.reshape(f["image/object/bbox"], [-1, 4]),
        "classes": tf.cast(f["image/object/class/index"], tf.int32),
        "is_crowd": tf.cast(f["image/object/is_crowd"], tf.bool),
    }


def _match(file_pattern: str) -> list[str]:
    files = sorted(glob.glob(file_pattern))
    if not files:
        raise PathNotFoundError(f"{file_pattern}: no TFRecord shards match")
    return files


def tfrecord_dataset(
    file_pattern: str, shuffle_files: bool = False, seed: int | None = None
) -> tf.data.Dataset:
    """Raw COCO examples (the same dicts as `coco.coco_dataset`) from shards of `write_shards`.

    Files are read one after another in sorted order (reproducible) unless `shuffle_files`.
    """
    files = _match(file_pattern)
    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_files:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(
        tf.data.TFRecordDataset,
        cycle_length=1 if not shuffle_files else min(8, len(files)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return ds.map(parse_example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def encoded_dataset(file_pattern: str) -> tf.data.Dataset:
    """{"image_id": int64, "image_bytes": string} per record, undecoded, in sorted shard order (the
    eval order of `tfrecord_dataset`): what a served model receives."""
    ds = tf.data.TFRecordDataset(_match(file_pattern))

    def pick(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        f = tf.io.parse_single_example(serialized, {k: FEATURES[k] for k in ("image/encoded", "image/source_id")})
        return {"image_id": f["image/source_id"], "image_bytes": f["image/encoded"]}

    return ds.map(pick, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def load_category_map(file_pattern: str) -> dict[str, Any]:
    """The `PREFIX.categories.json` written next to the shards matching `file_pattern`:
    {"categories", "index_to_id", "num_images", "num_shards", "source", "skipped_annotations"}."""
    first = _match(file_pattern)[0]
    if not _SHARD_SUFFIX.search(first):
        raise CocoFormatError(f"{first}: not a shard name of the form PREFIX-00000-of-00008.tfrecord")
    path = category_map_path(_SHARD_SUFFIX.sub("", first))
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: category map of {file_pattern} does not exist")
    with open(path, encoding="utf-8") as f:
        try:
            meta = json.load(f)
        except json.JSONDecodeError as err:
            raise CocoFormatError(f"{path}: not valid JSON ({err})") from err
    for key in ("categories", "index_to_id"):
        if not isinstance(meta, dict) or key not in meta:
            raise CocoFormatError(f"{path}: missing key '{key}'")
    return meta

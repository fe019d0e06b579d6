"""Cityscapes label maps for semantic image synthesis (SPADE / TSIT `cityscapes` dataset mode).

On-disk layout (the official download): ROOT/leftImg8bit/<split>/<city>/<name>_leftImg8bit.png and
ROOT/gtFine/<split>/<city>/<name>_gtFine_labelIds.png (8-bit ids 0..33) and _gtFine_instanceIds.png
(16-bit: id, or id * 1000 + instance). Each photo is paired with its two label files by <name>.
Output batches: {"a": (B, h, w, num_classes + 1) float32 = one-hot labelIds (35 channels for
Cityscapes) + SPADE's instance edge map, "b": (B, h, w, 3) photo in [-1, 1]}. Labels are resized
by nearest neighbour, photos bicubic; training flips all three together. A photo whose label files
are missing is a one-line error naming the file; unreadable PNGs are skipped, counted and logged.
"""

from __future__ import annotations

import os

import tensorflow as tf

from official.data import element_seeds, image_decode
from official.data.imagefolder import DatasetError

NUM_CLASSES = 35  # SPADE's cityscapes label_nc (labelIds 0..33 plus license plate's slot)
PHOTO_SUFFIX, LABEL_SUFFIX, INSTANCE_SUFFIX = "_leftImg8bit.png", "_gtFine_labelIds.png", "_gtFine_instanceIds.png"


def list_examples(root: str, split: str) -> list[tuple[str, str, str]]:
    """Sorted (photo, labelIds, instanceIds) paths of a split."""
    photos_dir = os.path.join(root, "leftImg8bit", split)
    if not os.path.isdir(photos_dir):
        raise DatasetError(f"{photos_dir}: not found (expected Cityscapes leftImg8bit/<split>/<city>/)")
    triples = []
    for d, _, files in sorted(os.walk(photos_dir)):
        for f in sorted(files):
            if not f.endswith(PHOTO_SUFFIX):
                continue
            city = os.path.relpath(d, photos_dir)
            stem = os.path.join(root, "gtFine", split, city, f[: -len(PHOTO_SUFFIX)])
            label, instance = stem + LABEL_SUFFIX, stem + INSTANCE_SUFFIX
            for path in (label, instance):
                if not os.path.isfile(path):
                    raise DatasetError(f"{path}: missing label file for {os.path.join(d, f)}")
            triples.append((os.path.join(d, f), label, instance))
    if not triples:
        raise DatasetError(f"{photos_dir}: no *{PHOTO_SUFFIX} photos")
    return triples


def instance_edges(instance: tf.Tensor) -> tf.Tensor:
    """(H, W) ids -> (H, W) float 1 where a pixel differs from a 4-neighbour (SPADE's get_edges)."""
    dx = tf.not_equal(instance[:, 1:], instance[:, :-1])
    dy = tf.not_equal(instance[1:, :], instance[:-1, :])
    h, w = tf.shape(instance)[0], tf.shape(instance)[1]
    zc, zr = tf.zeros([h, 1], tf.bool), tf.zeros([1, w], tf.bool)
    edge = tf.concat([zc, dx], 1) | tf.concat([dx, zc], 1) | tf.concat([zr, dy], 0) | tf.concat([dy, zr], 0)
    return tf.cast(edge, tf.float32)


def _example(photo, label, instance, size, num_classes, flip, training, seed=None):
    image = tf.image.resize(tf.cast(image_decode.decode_rgb(photo), tf.float32), size, "bicubic", antialias=True)
    ids = tf.image.resize(tf.io.decode_png(label, channels=1), size, "nearest")[..., 0]
    inst = tf.image.resize(tf.io.decode_png(instance, channels=1, dtype=tf.uint16), size, "nearest")[..., 0]
    if training and flip:
        do = tf.random.stateless_uniform([], tf.cast(seed, tf.int64)) < 0.5  # the element's own seed
        image = tf.cond(do, lambda: image[:, ::-1], lambda: image)
        ids = tf.cond(do, lambda: ids[:, ::-1], lambda: ids)
        inst = tf.cond(do, lambda: inst[:, ::-1], lambda: inst)
    onehot = tf.one_hot(tf.cast(ids, tf.int32), num_classes, dtype=tf.float32)
    semantics = tf.concat([onehot, instance_edges(tf.cast(inst, tf.int32))[..., None]], axis=-1)
    return {"a": semantics, "b": tf.clip_by_value(image, 0.0, 255.0) / 127.5 - 1.0}


def cityscapes_dataset(root: str, split: str, training: bool, batch_size: int, size: tuple[int, int],
                       flip: bool = True, seed: int | None = None, counter: image_decode.SkipCounter | None = None,
                       num_classes: int = NUM_CLASSES, input_context: tf.distribute.InputContext | None = None):
    """Batches of {"a": label one-hot + instance edges, "b": photo}; endless when training."""
    counter = counter or image_decode.SkipCounter()
    triples = list_examples(root, split)
    ds = tf.data.Dataset.from_tensor_slices(tuple(list(t) for t in zip(*triples, strict=True)))
    if input_context is not None and input_context.num_input_pipelines > 1:
        ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    if training:
        ds = ds.shuffle(len(triples), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.map(lambda photo, label, inst: {"encoded": tf.io.read_file(photo), "label": tf.io.read_file(label),
                                         "instance": tf.io.read_file(inst), "source": photo})
    ds = image_decode.filter_decodable(ds, counter, keys=("encoded", "label", "instance"))
    if training:  # each element's flip comes from its own seed: a seeded run is reproducible
        index = input_context.input_pipeline_id if input_context is not None else 0
        ds = element_seeds.with_element_seeds(ds, seed, index).map(
            lambda e, s: _example(e["encoded"], e["label"], e["instance"], tuple(size), num_classes, flip, True, s),
            num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda e: _example(e["encoded"], e["label"], e["instance"], tuple(size), num_classes, flip, False),
                    num_parallel_calls=tf.data.AUTOTUNE)
    per_replica = input_context.get_per_replica_batch_size(batch_size) if input_context is not None else batch_size
    return ds.batch(per_replica, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

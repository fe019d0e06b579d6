"""Class-labelled content and style images in imaginaire's raw few-shot translation layout (FUNIT, COCO-FUNIT):

    ROOT/images_content/<class>/<file>.jpg
    ROOT/images_style/<class>/<file>.jpg

The class index is the position of the class folder in the sorted union of the class folders of both
(imaginaire builds its LMDBs from this tree in folder order; in a few-shot test set the style classes are
unseen classes that need not have content images).
Training pairs a shuffled content image (label l_x) with an independently shuffled style image (label
l_y), each augmented as imaginaire's COCO-FUNIT configs: shortest side resized to `load_size`, a random
scale in [1, max_scale], random horizontal flip, random crop to `crop_size`. Evaluation resizes the
shortest side to the crop, centre-crops, and pairs content i with style i (the shorter list repeats).
Batches: {"content", "style": (B, h, w, 3) float32 in [-1, 1], "content_label", "style_label": (B,) int32}.
Unreadable files are skipped, counted and logged (official/data/image_decode.py).
"""

from __future__ import annotations

import os

import tensorflow as tf

from official.data import element_seeds, image_decode
from official.data.augment_ops import split_seed
from official.data.imagefolder import IMAGE_EXTENSIONS, DatasetError, file_examples

FOLDERS = ("images_content", "images_style")


def list_classes(root: str) -> list[str]:
    """Sorted union of the class folder names of ROOT/images_content and ROOT/images_style (the label order)."""
    classes = set()
    for kind in FOLDERS:
        folder = os.path.join(root, kind)
        if not os.path.isdir(folder):
            raise DatasetError(f"{folder}: not found (expected ROOT/images_content/<class>/ and "
                               "ROOT/images_style/<class>/)")
        found = [d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d))]
        if not found:
            raise DatasetError(f"{folder}: no class folders")
        classes.update(found)
    return sorted(classes)


def labelled_paths(root: str, kind: str) -> tuple[list[str], list[int]]:
    """(paths, class indices) of ROOT/<kind>/<class>/<images>, sorted by class then file name."""
    classes = list_classes(root)
    index = {c: i for i, c in enumerate(classes)}
    folder = os.path.join(root, kind)
    paths, labels = [], []
    for name in sorted(os.listdir(folder)):
        sub = os.path.join(folder, name)
        if not os.path.isdir(sub):
            continue
        files = sorted(f for f in os.listdir(sub) if f.lower().endswith(IMAGE_EXTENSIONS))
        paths += [os.path.join(sub, f) for f in files]
        labels += [index[name]] * len(files)
    if not paths:
        raise DatasetError(f"{folder}: no images in its class folders")
    return paths, labels


def _resize_shortest(image: tf.Tensor, side: tf.Tensor) -> tf.Tensor:
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    size = tf.cast(tf.math.ceil(shape * tf.cast(side, tf.float32) / tf.reduce_min(shape)), tf.int32)
    return tf.image.resize(tf.cast(image, tf.float32), size, method="bilinear", antialias=True)


def _train_transform(load_size: int, crop_size: tuple[int, int], max_scale: float, flip: bool):
    def transform(image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        scale_seed, flip_seed, crop_seed = split_seed(seed, 3)
        side = tf.cast(load_size, tf.float32) * tf.random.stateless_uniform((), scale_seed, 1.0, max_scale)
        side = tf.maximum(side, float(max(crop_size)))
        image = _resize_shortest(image, side)
        if flip:
            image = tf.image.stateless_random_flip_left_right(image, flip_seed)
        image = tf.image.stateless_random_crop(image, (*crop_size, 3), crop_seed)
        return tf.clip_by_value(image, 0.0, 255.0) / 127.5 - 1.0

    return transform


def _eval_transform(crop_size: tuple[int, int]):
    def transform(image: tf.Tensor) -> tf.Tensor:
        image = _resize_shortest(image, max(crop_size))
        h, w = tf.shape(image)[0], tf.shape(image)[1]
        top, left = (h - crop_size[0]) // 2, (w - crop_size[1]) // 2
        image = image[top:top + crop_size[0], left:left + crop_size[1]]
        image.set_shape((*crop_size, 3))
        return tf.clip_by_value(image, 0.0, 255.0) / 127.5 - 1.0

    return transform


def _stream(paths, labels, training, transform, counter, seed, input_context):
    shards, index = ((input_context.num_input_pipelines, input_context.input_pipeline_id)
                     if input_context is not None else (1, 0))
    ds = file_examples(paths, labels, shuffle=training, seed=seed, num_shards=shards, shard_index=index)
    if training:  # each element's scale, flip and crop come from its own seed: a seeded run is reproducible
        ds = element_seeds.with_element_seeds(image_decode.filter_decodable(ds.repeat(), counter), seed, index)
        return ds.map(lambda e, s: (transform(image_decode.decode_rgb(e["encoded"]), s), tf.cast(e["label"], tf.int32)),
                      num_parallel_calls=tf.data.AUTOTUNE)
    ds = image_decode.filter_decodable(ds, counter).cache()
    return ds.map(lambda e: (transform(image_decode.decode_rgb(e["encoded"])), tf.cast(e["label"], tf.int32)),
                  num_parallel_calls=tf.data.AUTOTUNE)


def few_shot_dataset(root: str, training: bool, batch_size: int, load_size: int, crop_size: tuple[int, int],
                     max_scale: float = 1.1, flip: bool = True, seed: int | None = None,
                     counter: image_decode.SkipCounter | None = None,
                     input_context: tf.distribute.InputContext | None = None) -> tf.data.Dataset:
    """Batches of content/style images and labels; endless when training (`batch_size` is global)."""
    crop_size = tuple(int(s) for s in crop_size)
    if training and load_size < max(crop_size):
        raise DatasetError(f"load_size {load_size} is smaller than crop_size {crop_size}")
    counter = counter or image_decode.SkipCounter()
    lists = [labelled_paths(root, kind) for kind in FOLDERS]
    transform = _train_transform(load_size, crop_size, max_scale, flip) if training else _eval_transform(crop_size)
    streams = [_stream(p, labels, training, transform, counter, None if seed is None else seed + i, input_context)
               for i, (p, labels) in enumerate(lists)]
    if not training:
        streams = [s.repeat() for s in streams]
    ds = tf.data.Dataset.zip(tuple(streams)).map(
        lambda c, s: {"content": c[0], "style": s[0], "content_label": c[1], "style_label": s[1]})
    if not training:
        ds = ds.take(max(len(p) for p, _ in lists))
    per_replica = input_context.get_per_replica_batch_size(batch_size) if input_context is not None else batch_size
    return ds.batch(per_replica, drop_remainder=training).prefetch(tf.data.AUTOTUNE)


def sizes(root: str) -> dict[str, int]:
    return {kind: len(labelled_paths(root, kind)[0]) for kind in FOLDERS}

"""Two image domains for unpaired translation, in CycleGAN's layout: ROOT/{train,test}{A,B}/<images>.

A domain may instead be listed in ROOT/{split}{A,B}.txt, one image path per line relative to ROOT (the
layout of ForkGAN's Alderley and BDD100K time-of-day lists). Training pairs an image of A with an
independently shuffled image of B (CycleGAN's unaligned mode), each resized to `load_size`, randomly
cropped to `crop_size` and flipped left-right with probability 0.5; evaluation resizes to `crop_size`
and pairs the two domains in order, repeating the shorter one, so every image of both is seen once.
Pixels are scaled to [-1, 1] (tanh generators). Unreadable files are skipped, counted and logged
(official/data/image_decode.py). `source` picks how the two domains are listed: "unpaired" (the layout
above) or a dataset's own format from official/data/night_day_lists.py ("alderley", "bdd100k_timeofday").
"""

from __future__ import annotations

import os

import tensorflow as tf

from official.data import element_seeds, image_decode
from official.data.augment_ops import split_seed
from official.data.imagefolder import IMAGE_EXTENSIONS, DatasetError, file_examples

DOMAINS = ("A", "B")


def domain_paths(root: str, split: str, domain: str) -> list[str]:
    """Sorted image paths of ROOT/<split><domain>/ (walked recursively) or of ROOT/<split><domain>.txt."""
    folder, listing = os.path.join(root, f"{split}{domain}"), os.path.join(root, f"{split}{domain}.txt")
    if os.path.isdir(folder):
        paths = sorted(os.path.join(d, f) for d, _, files in os.walk(folder) for f in files
                       if f.endswith(IMAGE_EXTENSIONS))
        if not paths:
            raise DatasetError(f"{folder}: no images ({', '.join(IMAGE_EXTENSIONS[:5])})")
        return paths
    if os.path.isfile(listing):
        with open(listing, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
        if not names:
            raise DatasetError(f"{listing}: the list is empty")
        missing = [n for n in names if not os.path.isfile(os.path.join(root, n))]
        if missing:
            raise DatasetError(f"{listing}: {len(missing)} listed file(s) do not exist, first: {missing[0]}")
        return [os.path.join(root, n) for n in names]
    raise DatasetError(f"{folder}: domain {domain} of split {split!r} not found (nor {listing})")


def source_paths(source: str, root: str, split: str) -> dict[str, list[str]]:
    """{"A": paths, "B": paths} of `split` listed the way `source` names."""
    if source in ("", "unpaired"):
        return {d: domain_paths(root, split, d) for d in DOMAINS}
    from official.data import night_day_lists

    if source not in night_day_lists.SOURCES:
        known = ", ".join(["unpaired", *night_day_lists.SOURCES])
        raise DatasetError(f"source: expected one of {known}, got {source!r}")
    return night_day_lists.SOURCES[source](root, split)


def scale_to_unit(image: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return tf.cast(image, tf.float32) / 127.5 - 1.0


def _train_transform(load_size: tuple[int, int], crop_size: tuple[int, int], flip: bool):
    def transform(image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        crop_seed, flip_seed = split_seed(seed, 2)
        image = tf.image.resize(tf.cast(image, tf.float32), load_size, method="bicubic", antialias=True)
        image = tf.image.stateless_random_crop(image, (*crop_size, 3), crop_seed)
        if flip:
            image = tf.image.stateless_random_flip_left_right(image, flip_seed)
        return tf.clip_by_value(image, 0.0, 255.0) / 127.5 - 1.0

    return transform


def _eval_transform(crop_size: tuple[int, int]):
    def transform(image: tf.Tensor) -> tf.Tensor:
        image = tf.image.resize(tf.cast(image, tf.float32), crop_size, method="bicubic", antialias=True)
        return tf.clip_by_value(image, 0.0, 255.0) / 127.5 - 1.0

    return transform


def _domain_stream(paths: list[str], training: bool, transform, counter: image_decode.SkipCounter, seed: int | None,
                   input_context: tf.distribute.InputContext | None) -> tf.data.Dataset:
    shards, index = ((input_context.num_input_pipelines, input_context.input_pipeline_id)
                     if input_context is not None else (1, 0))
    ds = file_examples(paths, [0] * len(paths), shuffle=training, seed=seed, num_shards=shards, shard_index=index)
    if training:  # each element's crop and flip come from its own seed: a seeded run is reproducible
        ds = element_seeds.with_element_seeds(image_decode.filter_decodable(ds.repeat(), counter), seed, index)
        return ds.map(lambda e, s: transform(image_decode.decode_rgb(e["encoded"]), s),
                      num_parallel_calls=tf.data.AUTOTUNE)
    # Evaluation repeats the shorter domain: the checked file bytes are cached so that a bad file is read,
    # and counted, once.
    ds = image_decode.filter_decodable(ds, counter).cache()
    return ds.map(lambda e: transform(image_decode.decode_rgb(e["encoded"])), num_parallel_calls=tf.data.AUTOTUNE)


def unpaired_dataset(root: str, split: str, training: bool, batch_size: int, load_size: tuple[int, int],
                     crop_size: tuple[int, int], flip: bool = True, seed: int | None = None,
                     counter: image_decode.SkipCounter | None = None,
                     input_context: tf.distribute.InputContext | None = None,
                     source: str = "unpaired") -> tf.data.Dataset:
    """Batches of {"a": (B, h, w, 3), "b": (B, h, w, 3)} float32 in [-1, 1]; endless when training.

    `batch_size` is the global batch: divided over input pipelines when `input_context` is given."""
    load_size, crop_size = tuple(load_size), tuple(crop_size)
    if training and (crop_size[0] > load_size[0] or crop_size[1] > load_size[1]):
        raise DatasetError(f"crop_size {crop_size} is larger than load_size {load_size}")
    counter = counter or image_decode.SkipCounter()
    paths = source_paths(source, root, split)
    transform = _train_transform(load_size, crop_size, flip) if training else _eval_transform(crop_size)
    streams = [_domain_stream(paths[d], training, transform, counter, None if seed is None else seed + i, input_context)
               for i, d in enumerate(DOMAINS)]
    if not training:
        # Both streams repeat (a skipped file would otherwise shorten one); the pairs stop at the longer
        # listing, so the shorter domain starts over and every readable image of both is seen.
        streams = [s.repeat() for s in streams]
    ds = tf.data.Dataset.zip(tuple(streams)).map(lambda a, b: {"a": a, "b": b})
    if not training:
        ds = ds.take(max(len(p) for p in paths.values()))
    per_replica = input_context.get_per_replica_batch_size(batch_size) if input_context is not None else batch_size
    return ds.batch(per_replica, drop_remainder=training).prefetch(tf.data.AUTOTUNE)


def image_stream(paths: list[str], training: bool, load_size: tuple[int, int], crop_size: tuple[int, int],
                 flip: bool = True, seed: int | None = None, counter: image_decode.SkipCounter | None = None,
                 input_context: tf.distribute.InputContext | None = None) -> tf.data.Dataset:
    """Unbatched (h, w, 3) float32 images in [-1, 1] of `paths`, transformed like a domain (endless when
    training): for methods that draw extra images per example (Sketch2Photo's noise strokes)."""
    transform = (_train_transform(tuple(load_size), tuple(crop_size), flip) if training
                 else _eval_transform(tuple(crop_size)))
    return _domain_stream(paths, training, transform, counter or image_decode.SkipCounter(), seed, input_context)


def domain_sizes(root: str, split: str, source: str = "unpaired") -> dict[str, int]:
    """Number of listed images per domain (before any unreadable file is skipped)."""
    return {d: len(p) for d, p in source_paths(source, root, split).items()}

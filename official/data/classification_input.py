"""The image-classification input pipeline: reader -> skip bad files -> decode -> augment -> batch.

Sources: an image folder or Tiny ImageNet split (image files), TFRecord shards (encoded images), CIFAR
pickles, MNIST IDX files or SVHN .mat files (raw pixels, which skip the skip-and-decode steps and enter
augmentation as the same uint8 (h, w, 3) tensors).

Works for one device, for `MirroredStrategy` and for multi-worker training: built per input pipeline
from a `tf.distribute.InputContext`, it shards files (or examples, when there are fewer files than
workers) and batches with the per-replica batch size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from official.core.config import DataConfig
from official.data import (
    cifar,
    fine_grained,
    image_decode,
    image_preprocessing,
    imagefolder,
    mnist,
    svhn,
    tfrecord,
    tinyimagenet,
)
from official.data.array_examples import in_memory_examples
from official.data.class_subset import class_subset, subset_names

log = logging.getLogger(__name__)


@dataclass
class ClassificationSource:
    """A resolved dataset: examples before decoding, their count and the skip counter.

    `examples` always hold "encoded" image bytes (what export verification and serving_bytes need);
    a source of raw pixels also sets `decoded`, the same examples with a uint8 "image" instead, which
    `build_dataset` reads so training never encodes and decodes.
    """

    examples: tf.data.Dataset
    num_examples: int
    class_names: list[str] = field(default_factory=list)
    skipped: image_decode.SkipCounter = field(default_factory=image_decode.SkipCounter)
    decoded: tf.data.Dataset | None = None


CIFAR_SOURCES = {"cifar": "auto", "cifar_coarse": "coarse"}  # data.source -> cifar.read_batches label_key
ARRAY_SOURCES = (*CIFAR_SOURCES, "mnist", "svhn")  # raw pixels held in memory
FILE_SOURCES = ("imagefolder", "tinyimagenet", *fine_grained.SOURCES)  # one image file per example


def example_image(example: dict) -> tf.Tensor:
    """uint8 (h, w, 3) of an example: its "image" pixels, else its decoded "encoded" bytes."""
    return example["image"] if "image" in example else image_decode.decode_rgb(example["encoded"])


def _with_png(example: dict) -> dict:
    return {"encoded": tf.io.encode_png(example["image"]), "label": example["label"], "source": example["source"]}


def _array_source(cfg: DataConfig) -> tuple[np.ndarray, np.ndarray, list[str], image_decode.SkipCounter]:
    """(images uint8 (N, h, w, 3), labels, class names, skip counter) of a raw-pixel source."""
    skipped = image_decode.SkipCounter()
    if cfg.source in CIFAR_SOURCES:
        images, labels, names = cifar.read_batches(cfg.path, CIFAR_SOURCES[cfg.source], skipped)
        return images, labels, names or [], skipped
    reader, num_classes = {"mnist": (mnist.read_mnist, mnist.NUM_CLASSES), "svhn": (svhn.read_svhn, svhn.NUM_CLASSES)}[cfg.source]
    images, labels = reader(cfg.path, skipped)
    return images, labels, [str(i) for i in range(num_classes)], skipped


def _file_source(cfg: DataConfig) -> tuple[list[str], list[int], list[str], image_decode.SkipCounter]:
    """(image paths, labels, class names, skip counter) of a source of image files."""
    skipped = image_decode.SkipCounter()
    if cfg.source == "tinyimagenet":
        paths, labels, names = tinyimagenet.list_tinyimagenet(cfg.path, skipped)
    elif cfg.source in fine_grained.SOURCES:  # ROOT/<split> of CUB, NABirds, Aircraft, Stanford Cars, Food-101
        paths, labels, names = fine_grained.list_split(cfg.source, cfg.path, skipped)
    else:
        paths, labels, names = imagefolder.list_image_folder(cfg.path)
    return paths, labels, names, skipped


def open_source(
    cfg: DataConfig,
    input_context: tf.distribute.InputContext | None = None,
    shuffle: bool = False,
    seed: int | None = None,
) -> ClassificationSource:
    """Opens `cfg.path` as image files, TFRecord shards or raw-pixel arrays, sharded for `input_context`.

    `shuffle` shuffles file (or example) order before reading, on every pass. `cfg.classes` keeps only
    the listed classes, numbered in list order (official/data/class_subset.py).
    """
    num_pipelines = input_context.num_input_pipelines if input_context else 1
    pipeline_id = input_context.input_pipeline_id if input_context else 0
    if cfg.source in FILE_SOURCES:
        paths, labels, names, skipped = _file_source(cfg)
        if cfg.classes:
            keep, labels = class_subset(labels, cfg.classes, len(names) or None, cfg.path)
            paths, labels, names = [paths[i] for i in keep], labels.tolist(), subset_names(names, cfg.classes)
        examples = imagefolder.file_examples(paths, labels, shuffle, seed, num_pipelines, pipeline_id)
        return ClassificationSource(examples, len(paths), names, skipped)
    if cfg.source == "tfrecord":
        if cfg.classes:
            raise imagefolder.DatasetError(
                f"{cfg.path}: data.classes: not supported for TFRecord shards (labels are only known after"
                " reading them); write the subset's shards, or use a folder or array source"
            )
        files = tfrecord.list_shards(cfg.path)
        n = tfrecord.count_records(files)
        by_file = num_pipelines > 1 and len(files) >= num_pipelines
        mine = files[pipeline_id::num_pipelines] if by_file else files
        examples = tfrecord.tfrecord_examples(cfg.path, cfg.label_offset, mine, shuffle, seed)
        if num_pipelines > 1 and not by_file:
            examples = examples.shard(num_pipelines, pipeline_id)
        return ClassificationSource(examples, n, [])
    if cfg.source in ARRAY_SOURCES:
        images, labels, names, skipped = _array_source(cfg)
        if cfg.classes:
            keep, labels = class_subset(labels, cfg.classes, len(names) or None, cfg.path)
            images, names = images[keep], subset_names(names, cfg.classes)
        decoded = in_memory_examples(images, labels, cfg.path, shuffle, seed, num_pipelines, pipeline_id)
        return ClassificationSource(decoded.map(_with_png), len(labels), names, skipped, decoded)
    raise imagefolder.DatasetError(
        f"data.source: expected {', '.join(FILE_SOURCES)}, tfrecord or {', '.join(ARRAY_SOURCES)}; got {cfg.source!r}"
    )


def build_dataset(
    cfg: DataConfig,
    training: bool,
    batch_size: int,
    input_context: tf.distribute.InputContext | None = None,
    seed: int | None = None,
    source: ClassificationSource | None = None,
    drop_remainder: bool | None = None,
    deterministic: bool = False,
) -> tf.data.Dataset:
    """Batched (image, label) pairs; repeated forever and shuffled when training.

    `batch_size` is the global batch; with an input context it becomes the per-replica batch. Training
    element i of the (seeded) shuffled stream is augmented with the i-th seed of a stream seeded by
    `seed`, so its crop does not depend on thread timing; the parallel map keeps element order only when
    `deterministic` or `cfg.deterministic` (reproducible batches, a little slower) or when evaluating.
    """
    source = source or open_source(cfg, input_context, shuffle=training, seed=seed)
    pipeline_id = input_context.input_pipeline_id if input_context is not None else 0
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    if source.decoded is not None:
        ds = source.decoded  # raw pixels: nothing to check or decode
    else:
        ds = image_decode.filter_decodable(source.examples, source.skipped)
    if cfg.cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(cfg.shuffle_buffer, seed=seed, reshuffle_each_iteration=True).repeat()
        # One augmentation stream per input pipeline, so workers do not draw the same crops.
        aug_seed = None if seed is None else seed + 1_000_003 * pipeline_id
        seeds = tf.data.Dataset.random(seed=aug_seed).batch(2, drop_remainder=True)
        ds = tf.data.Dataset.zip(ds, seeds)

        def to_pair(example: dict, element_seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            image = image_preprocessing.preprocess_train(example_image(example), cfg, element_seed)
            return image, tf.cast(example["label"], tf.int32)
    else:

        def to_pair(example: dict) -> tuple[tf.Tensor, tf.Tensor]:
            image = image_preprocessing.preprocess_eval(example_image(example), cfg)
            return image, tf.cast(example["label"], tf.int32)

    ordered = deterministic or cfg.deterministic or not training
    ds = ds.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE, deterministic=ordered)
    ds = ds.ignore_errors(log_warning=True)
    ds = ds.batch(batch_size, drop_remainder=training if drop_remainder is None else drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)

"""tf.data pipelines of the detection task: COCO JSON + image folder or TFRecord shards -> batches.

Training: raw examples -> CornerNet-style augmentation (`box_augment.augment`) -> crowd regions
dropped -> target encoding (`corner_targets` for corner detectors) -> fixed-shape (x, y) batches.
Evaluation: the deterministic fit-and-pad transform; x carries what maps detections back to the
original image (image_id, scale, offset, original_size, image_size = the resized image's extent).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from official.core.config import ConfigError
from official.data import box_augment, coco, coco_tfrecord, corner_targets
from official.tasks.detection_config import DetectionDataConfig, DetectionTaskConfig  # noqa: F401  (re-exported)


def raw_dataset(data: DetectionDataConfig, training: bool, seed: int | None, input_context: Any = None) -> tf.data.Dataset:
    """Unbatched raw examples of `data`, sharded over input pipelines when `input_context` is given."""
    if data.source == "coco":
        if not data.annotations:
            raise ConfigError(f"{data.path}: data.annotations (the COCO instances JSON) is required for source=coco")
        ds = coco.coco_dataset(data.annotations, data.path, shuffle=training, seed=seed, skip_empty=training and data.skip_empty)
    elif data.source == "tfrecord":
        ds = coco_tfrecord.tfrecord_dataset(data.path, shuffle_files=training, seed=seed)
        if training and data.skip_empty:
            ds = ds.filter(lambda ex: tf.reduce_any(tf.logical_not(ex["is_crowd"])))
    else:
        raise ConfigError(f"data.source: expected coco or tfrecord, got {data.source!r}")
    if input_context is not None and input_context.num_input_pipelines > 1:
        ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    return ds


def _drop_crowd(ex: dict) -> dict:
    keep = tf.logical_not(ex["is_crowd"])
    return {**ex, "boxes": tf.boolean_mask(ex["boxes"], keep), "classes": tf.boolean_mask(ex["classes"], keep)}


def training_example(ex: dict, task: DetectionTaskConfig, data: DetectionDataConfig) -> tuple[dict, dict]:
    """An augmented example -> (x, y) for `CPN` training (corner targets)."""
    if task.targets != "corners":
        raise ConfigError(f"task.targets: only 'corners' is implemented, got {task.targets!r}")
    ex = _drop_crowd(ex)
    size = data.image_size
    out = -(-size // task.output_stride)
    t = corner_targets.encode_corner_targets(
        ex["boxes"], ex["classes"], size, out, task.num_classes, data.max_boxes, task.gaussian_iou
    )
    x = {"image": ex["image"], "gt_boxes": t["gt_boxes"], "gt_classes": t["gt_classes"], "box_mask": t["box_mask"]}
    y = {k: t[k] for k in ("tl_heatmap", "br_heatmap", "tl_indices", "br_indices", "tl_offsets", "br_offsets", "box_mask")}
    return x, y


def eval_example(ex: dict, image_size: int) -> dict:
    """An eval-transformed example -> x with the mapping back to original pixels."""
    scale = ex["scale"]
    original = tf.cast(ex["original_size"], tf.float32)
    extent = tf.minimum(tf.round(original * tf.stack([scale[1], scale[0]])), float(image_size))
    return {
        "image": ex["image"],
        "image_id": ex["image_id"],
        "scale": scale,
        "offset": ex["offset"],
        "original_size": ex["original_size"],
        "image_size": extent,
    }


def build_dataset(
    task: DetectionTaskConfig,
    data: DetectionDataConfig,
    training: bool,
    global_batch_size: int,
    seed: int | None = None,
    input_context: Any = None,
) -> tf.data.Dataset:
    """Training: endless shuffled (x, y) batches (drop remainder). Eval: one pass of x batches."""
    batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
    ds = raw_dataset(data, training, seed, input_context)
    if data.cache:
        ds = ds.cache()
    if training:
        if data.source == "tfrecord":
            ds = ds.shuffle(data.shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        ds = ds.repeat()
        ds = box_augment.augment_dataset(
            ds, data.image_size, True, seed=seed, scale_range=tuple(data.scale_range), scale_step=data.scale_step,
            fit_to_output=data.fit_to_output, crop_border=data.crop_border, flip=data.horizontal_flip,
            jitter=data.color_jitter, lighting_std=data.lighting_std,
        )
        ds = ds.map(lambda ex: training_example(ex, task, data), num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.batch(batch, drop_remainder=True)
    else:
        ds = box_augment.augment_dataset(ds, data.image_size, False)
        ds = ds.map(lambda ex: eval_example(ex, data.image_size), num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.batch(batch)
    return ds.prefetch(tf.data.AUTOTUNE)


def encoded_dataset(data: DetectionDataConfig, global_batch_size: int) -> tf.data.Dataset:
    """One pass of {"image_id": int64 [B], "image_bytes": string [B]}: the eval images' encoded files,
    in reader order, as TF Serving receives them (`tools.evaluate --saved_model` scores serving_default)."""
    if data.source == "tfrecord":
        ds = coco_tfrecord.encoded_dataset(data.path)
    elif data.source == "coco":
        if not data.annotations:
            raise ConfigError(f"{data.path}: data.annotations (the COCO instances JSON) is required for source=coco")
        anns = coco.CocoAnnotations.load(data.annotations)
        paths = coco.image_paths(anns, data.path)
        ids = [int(img["id"]) for img in anns.images]
        ds = tf.data.Dataset.from_tensor_slices({"image_id": tf.constant(ids, tf.int64), "path": paths})
        ds = ds.map(lambda ex: {"image_id": ex["image_id"], "image_bytes": tf.io.read_file(ex["path"])})
    else:
        raise ConfigError(f"eval_data.source: expected coco or tfrecord, got {data.source!r}")
    return ds.batch(global_batch_size).prefetch(tf.data.AUTOTUNE)

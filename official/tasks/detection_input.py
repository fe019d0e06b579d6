"""tf.data pipelines of the detection task: COCO JSON + image folder or TFRecord shards -> batches.

Training: raw examples -> CornerNet-style augmentation (`box_augment.augment`) -> crowd regions
dropped -> target encoding (`corner_targets` for corner detectors) -> fixed-shape (x, y) batches.
Evaluation: the deterministic fit-and-pad transform; x carries what maps detections back to the
original image (image_id, scale, offset, original_size, image_size = the resized image's extent).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import tensorflow as tf

from official.core.config import ConfigError, DataConfig, TaskConfig
from official.data import box_augment, coco, coco_tfrecord, corner_targets


@dataclasses.dataclass
class DetectionDataConfig(DataConfig):
    source: str = "coco"  # coco (instances JSON + image folder) | tfrecord (shards of tools.coco_to_tfrecord)
    path: str = ""  # image folder (coco) or TFRecord file pattern (tfrecord)
    annotations: str = ""  # COCO instances JSON: labels of the coco source and the evaluation ground truth
    image_size: int = 511  # square network input S (CPN trains on 511 x 511 crops)
    shuffle_buffer: int = 1000  # examples in the shuffle buffer (tfrecord source, training)
    max_boxes: int = 128  # object rows per image (CornerNet max_tag_len)
    scale_range: tuple[float, float] = (0.6, 1.4)  # training random resize factors (CPN spec: 0.6-1.4)
    scale_step: float = 0.1  # step of the resize factors (0 = continuous)
    fit_to_output: bool = False  # scale relative to S / max(H, W) instead of the native resolution
    crop_border: float = 128.0  # the crop centre stays this far inside the resized image (CornerNet)
    color_jitter: float = 0.4  # training brightness/contrast/saturation strength (0 disables)
    lighting_std: float = 0.1  # training PCA lighting noise std (0 disables)
    skip_empty: bool = True  # training skips images without objects (CornerNet resamples them)


@dataclasses.dataclass
class DetectionTaskConfig(TaskConfig):
    name: str = "detection"  # registered Task class
    num_classes: int = 80  # object classes (heatmap channels); must match the annotations
    targets: str = "corners"  # training target encoder: corners (CornerNet/CPN heatmaps + offsets)
    output_stride: int = 4  # network input pixels per output cell
    gaussian_iou: float = 0.7  # CornerNet's radius rule: corners within it keep IoU >= this


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

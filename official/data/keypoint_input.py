"""The top-down keypoint input pipeline: person records -> decoded image -> (augment) -> crop -> targets.

`keypoint_dataset` maps a `PersonRecords` table (`coco_keypoints`, `mpii`) into UNBATCHED examples:

    training (targets on):
      "image":     float32 [H, W, 3]         normalised crop (default RSN: BGR, (x/255 - mean) / std)
      "heatmaps":  float32 [n_k, h, w, K]    one target set per kernel size (RSN 15, 11, 9, 7, 5), each
                                             drawn keypoint peaks at `heatmap_peak` (RSN: 255)
      "valid":     float32 [K]               v after cropping: 0 (unlabeled or outside the crop), 1, 2
      "keypoints": float32 [K, 3]            (x, y) in crop pixels, valid
    evaluation (no augmentation) adds, and drops the targets unless `with_targets=True`:
      "image_id":  int64   []                COCO image id (MPII: person index)
      "center":    float32 [2]               crop centre (x, y), source pixels
      "scale":     float32 [2]               crop size (w, h), SOURCE PIXELS (RSN's scale * 200), so a
                                             crop point p maps back to center + (p / (W, H) - 0.5) * scale
      "score":     float32 []                box score (1 for ground-truth boxes)
      "bbox":      float32 [4]               the person box (x, y, w, h)
      "area":      float32 []                annotation area (detections: w * h)
with (H, W) = `input_size` (COCO 256x192, MPII 256x256) and (h, w) = (H, W) / 4. Flip testing is left to
the model side (mirror the crop, swap `spec.flip_pairs`). Image pixels are warped in float (no rounding to
uint8 as cv2.warpAffine does on uint8 images).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from official.core.errors import BadValueError
from official.data.coco_keypoints import PersonRecords, load_coco_detections, load_coco_keypoints
from official.data.keypoint_affine import apply_affine_tf, crop_affine_tf, warp_affine
from official.data.keypoint_augment import (
    COCO_AUGMENT,
    MPII_AUGMENT,
    KeypointAugmentConfig,
    augment_person,
    person_box,
)
from official.data.keypoint_constants import COCO, MPII, RSN_MEAN_BGR, RSN_STD_BGR, KeypointSpec
from official.data.keypoint_targets import RSN_HEATMAP_PEAK, RSN_KERNELS, crop_validity, render_heatmaps
from official.data.mpii import load_mpii


def _decode(path: tf.Tensor, expected_size: tf.Tensor, source: str) -> tf.Tensor:
    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False, dtype=tf.uint8)
    image.set_shape([None, None, 3])
    size = tf.shape(image)[:2]
    known = tf.reduce_all(expected_size > 0)
    check = tf.debugging.Assert(
        tf.logical_or(tf.logical_not(known), tf.reduce_all(tf.equal(size, expected_size))),
        [f"{source}: decoded (height, width) differs from the annotation for", path, size, expected_size],
    )
    with tf.control_dependencies([check]):
        return tf.identity(image)


def keypoint_dataset(
    records: PersonRecords,
    training: bool,
    spec: KeypointSpec = COCO,
    input_size: tuple[int, int] = (256, 192),
    heatmap_size: tuple[int, int] | None = None,
    kernels: tuple[int, ...] = RSN_KERNELS,
    augment: KeypointAugmentConfig = COCO_AUGMENT,
    mean: tuple[float, float, float] = RSN_MEAN_BGR,
    std: tuple[float, float, float] = RSN_STD_BGR,
    bgr: bool = True,
    with_targets: bool | None = None,
    shuffle: bool | None = None,
    seed: int | None = None,
    heatmap_peak: float = RSN_HEATMAP_PEAK,
) -> tf.data.Dataset:
    """Top-down examples (see the module docstring) from person records.

    Args:
      records: the persons (GT boxes for training, GT or detected boxes for evaluation).
      training: random augmentation (else only the test-time box extension).
      spec: keypoint layout; its K must equal the records'.
      input_size: crop (height, width).
      heatmap_size: target (height, width); default input_size / 4.
      kernels: Gaussian kernel sizes of the target sets, in output order.
      augment: extension and augmentation values (`COCO_AUGMENT`, `MPII_AUGMENT`).
      mean, std: per-channel normalisation on the 0-1 scale, in the output channel order.
      bgr: reverse the decoded RGB to BGR before normalising (RSN reads images with cv2).
      with_targets: add heatmaps/valid/keypoints; default = training.
      shuffle: shuffle the persons each epoch; default = training.
      seed: with a seed the shuffle order and every augmentation draw are reproducible.
      heatmap_peak: target maximum (255 as RSN's loss expects; 1.0 for unit-peak heads).
    """
    if records.num_keypoints != spec.num_keypoints:
        raise BadValueError(
            f"spec: {spec.name} has {spec.num_keypoints} keypoints but {records.source} has {records.num_keypoints}"
        )
    if len(records) == 0:
        raise BadValueError(f"records: no usable person in {records.source} (skipped: {records.skipped})")
    if heatmap_size is None:
        heatmap_size = (input_size[0] // 4, input_size[1] // 4)
    input_size = (int(input_size[0]), int(input_size[1]))
    aspect_ratio = input_size[1] / input_size[0]
    with_targets = training if with_targets is None else with_targets
    shuffle = training if shuffle is None else shuffle
    source = records.source
    mean_t = tf.constant(mean, tf.float32)
    std_t = tf.constant(std, tf.float32)

    ds = tf.data.Dataset.from_tensor_slices(
        {
            "path": tf.constant(records.image_paths, tf.string),
            "image_id": records.image_ids,
            "center": records.centers,
            "scale": records.scales,
            "keypoints": records.keypoints,
            "bbox": records.bboxes,
            "area": records.areas,
            "score": records.scores,
            "image_size": records.image_sizes,
        }
    )
    if shuffle:
        ds = ds.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)

    def load(item: dict[str, tf.Tensor], element_seed: Any) -> dict[str, tf.Tensor]:
        image = _decode(item["path"], item["image_size"], source)
        if bgr:
            image = tf.reverse(image, [2])
        keypoints = item["keypoints"]
        if training:
            aug = augment_person(
                image, item["center"], item["scale"], keypoints, spec, augment, aspect_ratio, element_seed
            )
            image, center, scale = aug["image"], aug["center"], aug["scale"]
            rotation, keypoints = aug["rotation"], aug["keypoints"]
        else:
            center, scale = person_box(item["center"], item["scale"], augment, aspect_ratio)
            rotation = tf.constant(0.0)
        matrix = crop_affine_tf(center, scale, rotation, input_size)
        crop = warp_affine(image, matrix, input_size)
        out = {"image": (crop / 255.0 - mean_t) / std_t}
        if with_targets:
            xy = apply_affine_tf(keypoints[:, :2], matrix)
            valid = crop_validity(tf.concat([xy, keypoints[:, 2:]], axis=1), input_size)
            crop_kp = tf.concat([xy, valid[:, None]], axis=1)
            out.update(
                heatmaps=render_heatmaps(crop_kp, input_size, heatmap_size, kernels, heatmap_peak),
                valid=valid,
                keypoints=crop_kp,
            )
        if not training:
            out.update(
                image_id=item["image_id"],
                center=center,
                scale=scale,
                score=item["score"],
                bbox=item["bbox"],
                area=item["area"],
            )
        return out

    if training and seed is not None:
        # New draws on every pass over the data (an outer .repeat() or a Keras epoch), the same draws
        # for the same seed in a freshly built pipeline.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(
            2, drop_remainder=True
        )
        return tf.data.Dataset.zip(ds, seeds).map(
            load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        )
    return ds.map(lambda item: load(item, None), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def coco_keypoint_dataset(
    json_path: str,
    image_dir: str,
    training: bool,
    detections: str | None = None,
    score_threshold: float | None = None,
    **kwargs: Any,
) -> tf.data.Dataset:
    """COCO person_keypoints JSON -> `keypoint_dataset` (GT boxes, or `detections` for evaluation)."""
    if detections is not None:
        records = load_coco_detections(detections, image_dir, json_path, score_threshold=score_threshold)
    else:
        records = load_coco_keypoints(json_path, image_dir)
    return keypoint_dataset(records, training, spec=COCO, **kwargs)


def mpii_keypoint_dataset(json_path: str, image_dir: str, training: bool, **kwargs: Any) -> tf.data.Dataset:
    """MPII annotations JSON -> `keypoint_dataset` with RSN's MPII defaults (256x256, MPII_AUGMENT)."""
    kwargs.setdefault("input_size", (256, 256))
    kwargs.setdefault("augment", MPII_AUGMENT)
    return keypoint_dataset(load_mpii(json_path, image_dir), training, spec=MPII, **kwargs)

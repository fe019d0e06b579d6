"""tf.data reader for COCO detection data stored as an instances JSON plus an image folder.

The reader yields UNBATCHED raw examples, one per image listed in the JSON:

    {"image":    uint8   [H, W, 3]   decoded pixels (grey and RGBA images become RGB),
     "image_id": int64   []          the COCO image id,
     "boxes":    float32 [N, 4]      (x1, y1, x2, y2) in pixels, exactly x, y, x+w, y+h of the JSON bbox
                                     (not clipped to the image; `box_augment` clips),
     "classes":  int32   [N]         contiguous class indices 0..C-1 (`CocoAnnotations.id_to_index`),
     "is_crowd": bool    [N]         iscrowd=1 regions, to be used as ignore regions, not as targets}

N may be 0 (images without boxes are kept unless `skip_empty=True`). Annotation validation, the
contiguous class map and the missing-image policy live in `official.data.coco_annotations` and are
re-exported here: malformed annotations are logged with their id, skipped and counted; a missing
image file is a FileNotFoundError naming the path, raised before the dataset is built.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from official.data.coco_annotations import (  # noqa: F401  (re-exported API)
    SKIP_REASONS,
    CocoAnnotations,
    CocoFormatError,
    image_paths,
)

RAW_KEYS = ("image", "image_id", "boxes", "classes", "is_crowd")


def raw_element_spec() -> dict[str, tf.TensorSpec]:
    """The element spec shared by `coco_dataset` and `coco_tfrecord.tfrecord_dataset`."""
    return {
        "image": tf.TensorSpec([None, None, 3], tf.uint8),
        "image_id": tf.TensorSpec([], tf.int64),
        "boxes": tf.TensorSpec([None, 4], tf.float32),
        "classes": tf.TensorSpec([None], tf.int32),
        "is_crowd": tf.TensorSpec([None], tf.bool),
    }


def targets_as_arrays(
    annotations: CocoAnnotations, image_ids: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat (boxes [M, 4] float32, classes [M] int32, is_crowd [M] bool, row_splits [I+1] int64).

    Row i holds the boxes of `image_ids[i]` (all images in file order by default).
    """
    ids = [img["id"] for img in annotations.images] if image_ids is None else image_ids
    boxes, classes, crowd, splits = [], [], [], [0]
    for image_id in ids:
        b, c, k = annotations.image_targets(image_id)
        boxes.extend(b)
        classes.extend(c)
        crowd.extend(k)
        splits.append(len(boxes))
    return (
        np.asarray(boxes, np.float32).reshape(-1, 4),
        np.asarray(classes, np.int32),
        np.asarray(crowd, bool),
        np.asarray(splits, np.int64),
    )


def decode_image(encoded: tf.Tensor) -> tf.Tensor:
    """JPEG/PNG/BMP/GIF bytes -> uint8 [H, W, 3]."""
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False, dtype=tf.uint8)
    image.set_shape([None, None, 3])
    return image


def coco_dataset(
    json_path: str,
    image_dir: str,
    shuffle: bool = False,
    seed: int | None = None,
    skip_empty: bool = False,
    annotations: CocoAnnotations | None = None,
) -> tf.data.Dataset:
    """Raw COCO examples (see the module docstring) from `json_path` and the images in `image_dir`.

    Args:
      json_path: COCO instances JSON.
      image_dir: folder that `images[].file_name` is relative to.
      shuffle: shuffle the image order (all images, reshuffled every epoch) before decoding.
      seed: shuffle seed; with a seed the order is reproducible.
      skip_empty: drop images that have no valid annotation (crowd-only images are kept).
      annotations: already loaded annotations of `json_path` (saves parsing the JSON twice).

    Raises:
      CocoFormatError: `json_path` is not a COCO instances file.
      FileNotFoundError: `image_dir` or an image file listed in the JSON is missing.
    """
    anns = annotations if annotations is not None else CocoAnnotations.load(json_path)
    paths = image_paths(anns, image_dir)
    ids = [img["id"] for img in anns.images]
    sizes = [(img["height"], img["width"]) for img in anns.images]
    if skip_empty:
        keep = [i for i, image_id in enumerate(ids) if anns.image_annotations(image_id)]
        paths, ids, sizes = [paths[i] for i in keep], [ids[i] for i in keep], [sizes[i] for i in keep]
    boxes, classes, crowd, splits = targets_as_arrays(anns, ids)
    source = anns.source

    targets = {
        "boxes": tf.RaggedTensor.from_row_splits(boxes, splits),
        "classes": tf.RaggedTensor.from_row_splits(classes, splits),
        "is_crowd": tf.RaggedTensor.from_row_splits(crowd, splits),
    }
    ds = tf.data.Dataset.from_tensor_slices(
        {
            "path": tf.constant(paths, tf.string),
            "image_id": tf.constant(ids, tf.int64),
            "size": tf.constant(np.asarray(sizes, np.int32).reshape(-1, 2)),
            **targets,
        }
    )
    if shuffle:
        ds = ds.shuffle(max(len(ids), 1), seed=seed, reshuffle_each_iteration=True)

    def load(item: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        image = decode_image(tf.io.read_file(item["path"]))
        check = tf.debugging.Assert(
            tf.reduce_all(tf.equal(tf.shape(image)[:2], item["size"])),
            [
                f"{source}: decoded (height, width) differs from the JSON for",
                item["path"],
                tf.shape(image)[:2],
                item["size"],
            ],
        )
        with tf.control_dependencies([check]):
            image = tf.identity(image)
        return {
            "image": image,
            "image_id": item["image_id"],
            "boxes": tf.reshape(item["boxes"], [-1, 4]),
            "classes": tf.reshape(item["classes"], [-1]),
            "is_crowd": tf.reshape(item["is_crowd"], [-1]),
        }

    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

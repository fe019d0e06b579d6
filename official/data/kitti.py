"""KITTI monocular-3D frames (image_2 + label_2 + calib + ImageSets) -> padded per-frame tf.data examples.

`load_kitti_records(root, split)` reads the object benchmark's layout (see `kitti_format` for the files):
    root/image_2/NNNNNN.png   root/label_2/NNNNNN.txt   root/calib/NNNNNN.txt   root/ImageSets/<split>.txt
`root` may also be the folder ABOVE `training/` (the usual `KITTI/object/{training,ImageSets}` and the
layout `tools/make_kitti_boxes.py` writes): when `root/image_2` does not exist but `root/training/image_2`
does, the frames are read from `root/training`, and the split file from `root/ImageSets` (or
`root/training/ImageSets`). An explicit `image_set_file` replaces the split lookup.

Validation (the `mpii` / `coco_keypoints` policy): a missing folder or split file is a `PathNotFoundError`
naming it; a frame whose files are missing or malformed is logged (first 50 per reason), skipped and
counted per reason in `KittiRecords.skipped`:
    missing_image, missing_label, missing_calib   the listed frame has no such file;
    bad_label    a label line `kitti_format` rejects (the message names file, line and field), or an
                 object of a kept class with a non-positive dimension or a depth z <= 0;
    bad_calib    a calib file `kitti_format` rejects, or a P2 whose P2[2, :3] is not (0, 0, 1)-like
                 (a KITTI rectified camera: focal lengths > 0, optical axis along z).
Frames with more kept objects than `max_objects` keep the first `max_objects` in file order; they are
counted in `KittiRecords.over_max_objects` (not skipped). DontCare regions and types not in `classes` are
not objects here (the evaluator reads the label files itself).

`kitti_dataset(records)` yields one dict per frame, keys and shapes (M = max_objects):
    "image"          uint8   [H, W, 3]  decoded PNG
    "image_id"       string  []         the 6-digit frame id
    "image_size"     int32   [2]        (H, W) of the decoded image
    "P2"             float32 [3, 4]     left colour camera projection (rectified camera-0 -> image_2 pixels)
    "gt_classes"     int32   [M]        index into `classes`, -1 for padding
    "gt_boxes2d"     float32 [M, 4]     left, top, right, bottom (pixels)
    "gt_dimensions"  float32 [M, 3]     h, w, l (metres)
    "gt_locations"   float32 [M, 3]     x, y, z of the bottom-face centre (metres)
    "gt_rotation_y"  float32 [M]
    "gt_alpha"       float32 [M]
    "gt_truncated"   float32 [M]
    "gt_occluded"    int32   [M]
    "gt_valid"       bool    [M]        True for the num_objects real objects
    "num_objects"    int32   []
Padding rows are zero (classes -1, valid False). `mono3d_augment` turns these into network inputs.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from absl import logging

from official.core.errors import BadValueError, PathNotFoundError
from official.data.kitti_format import KittiFormatError, read_calib_file, read_label_file, read_split

DEFAULT_CLASSES = ("Car", "Pedestrian", "Cyclist")
SKIP_REASONS = ("missing_image", "missing_label", "missing_calib", "bad_label", "bad_calib")
_MAX_LOGGED = 50
_OBJECT_ARRAYS = (  # name, per-object shape, dtype
    ("gt_classes", (), np.int32),
    ("gt_boxes2d", (4,), np.float32),
    ("gt_dimensions", (3,), np.float32),
    ("gt_locations", (3,), np.float32),
    ("gt_rotation_y", (), np.float32),
    ("gt_alpha", (), np.float32),
    ("gt_truncated", (), np.float32),
    ("gt_occluded", (), np.int32),
    ("gt_valid", (), np.bool_),
)
EXAMPLE_KEYS = ("image", "image_id", "image_size", "P2", *(n for n, _, _ in _OBJECT_ARRAYS), "num_objects")


@dataclasses.dataclass
class KittiRecords:
    """One row per usable frame; object arrays are padded to `max_objects` (see the module docstring).

    Attributes:
      root: the folder the frames were read from (the one holding image_2/label_2/calib).
      split_file: the ImageSets file read.
      classes: the kept object types; gt_classes indexes this tuple.
      max_objects: M, the padded object count.
      image_ids: N frame ids ("000123").
      image_paths: N PNG paths.
      P2: float32 [N, 3, 4].
      objects: {"gt_classes": int32 [N, M], "gt_boxes2d": float32 [N, M, 4], ...} (module docstring).
      num_objects: int32 [N].
      skipped: frames skipped per reason (all of SKIP_REASONS, zeros included).
      skipped_ids: the skipped frame ids per reason.
      over_max_objects: ids of frames that had more than M kept objects (the extra ones were dropped).
    """

    root: str
    split_file: str
    classes: tuple[str, ...]
    max_objects: int
    image_ids: list[str]
    image_paths: list[str]
    P2: np.ndarray
    objects: dict[str, np.ndarray]
    num_objects: np.ndarray
    skipped_ids: dict[str, list[str]]
    over_max_objects: list[str]

    def __len__(self) -> int:
        return len(self.image_ids)

    @property
    def skipped(self) -> dict[str, int]:
        return {reason: len(ids) for reason, ids in self.skipped_ids.items()}


def _frame_root(root: str) -> str:
    if not os.path.isdir(root):
        raise PathNotFoundError(f"{root}: KITTI root folder not found")
    if not os.path.isdir(os.path.join(root, "image_2")) and os.path.isdir(
        os.path.join(root, "training", "image_2")
    ):
        return os.path.join(root, "training")
    return root


def _split_path(root: str, frame_root: str, split: str) -> str:
    candidates = [os.path.join(root, "ImageSets", f"{split}.txt")]
    if frame_root != root:
        candidates.append(os.path.join(frame_root, "ImageSets", f"{split}.txt"))
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise PathNotFoundError(
        f"{candidates[0]}: split file for split '{split}' not found (looked at {', '.join(candidates)})"
    )


def _check_p2(p2: np.ndarray, path: str) -> None:
    if not (
        p2[0, 0] > 0
        and p2[1, 1] > 0
        and abs(p2[2, 2] - 1.0) < 1e-3
        and abs(p2[2, 0]) < 1e-6
        and abs(p2[2, 1]) < 1e-6
    ):
        raise KittiFormatError(f"{path}: field 'P2' is not a rectified camera matrix: {p2.tolist()}")


def _frame_objects(label_path: str, class_index: dict[str, int]) -> list[tuple[int, Any]]:
    kept = []
    for line_no, obj in enumerate(read_label_file(label_path), 1):
        if obj.type not in class_index:
            continue
        if min(obj.dimensions) <= 0 or obj.location[2] <= 0:
            raise KittiFormatError(
                f"{label_path}: object {line_no} ({obj.type}) has dimensions {obj.dimensions} / depth "
                f"{obj.location[2]}: fields 'h w l' must be > 0 and 'z' > 0"
            )
        kept.append((class_index[obj.type], obj))
    return kept


def load_kitti_records(
    root: str,
    split: str,
    image_set_file: str | None = None,
    classes: Sequence[str] = DEFAULT_CLASSES,
    max_objects: int = 50,
) -> KittiRecords:
    """The usable frames of a KITTI split (module docstring: layout, validation, skip reasons).

    Args:
      root: the folder with image_2/label_2/calib (or its parent with training/ and ImageSets/).
      split: ImageSets name ("train", "val", "trainval"); used when `image_set_file` is None.
      image_set_file: an explicit list of frame ids, one per line.
      classes: object types to keep, in class-index order.
      max_objects: M, padded object count per frame.

    Raises:
      PathNotFoundError: root, image_2, label_2, calib or the split file is missing.
      BadValueError: empty `classes`, an unknown type in it, or max_objects < 1.
    """
    classes = tuple(classes)
    if not classes or len(set(classes)) != len(classes) or "DontCare" in classes:
        raise BadValueError(f"classes: expected distinct object types other than DontCare, got {classes}")
    if max_objects < 1:
        raise BadValueError(f"max_objects: expected >= 1, got {max_objects}")
    frame_root = _frame_root(root)
    folders = {name: os.path.join(frame_root, name) for name in ("image_2", "label_2", "calib")}
    for folder in folders.values():
        if not os.path.isdir(folder):
            raise PathNotFoundError(f"{folder}: KITTI folder not found (root {root})")
    split_file = image_set_file if image_set_file is not None else _split_path(root, frame_root, split)
    frame_ids = read_split(split_file)
    class_index = {name: i for i, name in enumerate(classes)}

    skipped_ids: dict[str, list[str]] = {r: [] for r in SKIP_REASONS}

    def skip(reason: str, frame_id: str, message: str) -> None:
        skipped_ids[reason].append(frame_id)
        if len(skipped_ids[reason]) <= _MAX_LOGGED:
            logging.warning("KITTI frame %s skipped (%s): %s", frame_id, reason, message)

    ids, paths, p2s, frames, over = [], [], [], [], []
    for frame_id in frame_ids:
        image_path = os.path.join(folders["image_2"], f"{frame_id}.png")
        label_path = os.path.join(folders["label_2"], f"{frame_id}.txt")
        calib_path = os.path.join(folders["calib"], f"{frame_id}.txt")
        missing = [
            (r, p)
            for r, p in (
                ("missing_image", image_path),
                ("missing_label", label_path),
                ("missing_calib", calib_path),
            )
            if not os.path.isfile(p)
        ]
        if missing:
            skip(missing[0][0], frame_id, f"{missing[0][1]} not found")
            continue
        try:
            objects = _frame_objects(label_path, class_index)
        except KittiFormatError as err:
            skip("bad_label", frame_id, str(err))
            continue
        try:
            p2 = read_calib_file(calib_path)["P2"]
            _check_p2(p2, calib_path)
        except KittiFormatError as err:
            skip("bad_calib", frame_id, str(err))
            continue
        if len(objects) > max_objects:
            over.append(frame_id)
            objects = objects[:max_objects]
        ids.append(frame_id)
        paths.append(image_path)
        p2s.append(p2)
        frames.append(objects)

    n, m = len(ids), max_objects
    arrays = {name: np.zeros((n, m) + shape, dtype) for name, shape, dtype in _OBJECT_ARRAYS}
    arrays["gt_classes"][:] = -1
    for i, objects in enumerate(frames):
        for j, (cls, obj) in enumerate(objects):
            arrays["gt_classes"][i, j] = cls
            arrays["gt_boxes2d"][i, j] = obj.box2d
            arrays["gt_dimensions"][i, j] = obj.dimensions
            arrays["gt_locations"][i, j] = obj.location
            arrays["gt_rotation_y"][i, j] = obj.rotation_y
            arrays["gt_alpha"][i, j] = obj.alpha
            arrays["gt_truncated"][i, j] = obj.truncated
            arrays["gt_occluded"][i, j] = obj.occluded
            arrays["gt_valid"][i, j] = True
    total_skipped = sum(len(v) for v in skipped_ids.values())
    if total_skipped:
        logging.warning(
            "%s: skipped %d of %d frames: %s", split_file, total_skipped, len(frame_ids),
            ", ".join(f"{r}={len(v)}" for r, v in skipped_ids.items() if v),
        )  # fmt: skip
    if over:
        logging.warning(
            "%s: %d frames had more than %d objects; the extra ones were dropped", split_file, len(over), m
        )
    return KittiRecords(
        root=frame_root,
        split_file=split_file,
        classes=classes,
        max_objects=m,
        image_ids=ids,
        image_paths=paths,
        P2=np.asarray(p2s, np.float32).reshape(n, 3, 4),
        objects=arrays,
        num_objects=np.asarray([len(f) for f in frames], np.int32).reshape(n),
        skipped_ids=skipped_ids,
        over_max_objects=over,
    )


def kitti_dataset(records: KittiRecords, shuffle: bool = False, seed: int | None = None) -> tf.data.Dataset:
    """One unbatched example per frame with the keys of the module docstring (EXAMPLE_KEYS).

    shuffle: shuffle the frames each pass (reproducible with `seed`).
    """
    if len(records) == 0:
        raise BadValueError(f"records: no usable frame in {records.split_file} (skipped: {records.skipped})")
    table = {
        "path": tf.constant(records.image_paths, tf.string),
        "image_id": tf.constant(records.image_ids, tf.string),
        "P2": records.P2,
        "num_objects": records.num_objects,
        **records.objects,
    }
    ds = tf.data.Dataset.from_tensor_slices(table)
    if shuffle:
        ds = ds.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)

    def load(item: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        image = tf.io.decode_png(tf.io.read_file(item["path"]), channels=3, dtype=tf.uint8)
        image.set_shape([None, None, 3])
        out = {"image": image, "image_id": item["image_id"], "image_size": tf.shape(image, tf.int32)[:2]}
        out.update({k: item[k] for k in EXAMPLE_KEYS if k not in out})
        return out

    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

"""Taskonomy dense tasks: (RGB, target, validity mask) frames from the dataset's per-building folders.

Layout of the Taskonomy download (one `<building>_<task>.tar` per building and task, unpacked per building):
  <root>/<building>/rgb/point_<i>_view_<j>_domain_rgb.png
  <root>/<building>/<task>/point_<i>_view_<j>_domain_<task>.png
  <root>/<building>/mask_valid/point_<i>_view_<j>_domain_mask_valid.png   (full set; optional here)
Frames are paired by (point, view) parsed from the names, never by sorted position, so a frame missing
from one folder cannot shift the rest; an RGB frame without its target (or its mask, where the building
has a mask folder) is counted and skipped. (side-tuning's loader reads a re-packed copy laid out
<root>/<task>/<building>/point_<i>_view_<j>.png and zips sorted lists, assuming every folder complete.)

Targets are scaled to [0, 1] by their bit depth, as side-tuning's transforms do before mapping to [-1, 1]
(tlkit/data/img_transforms.py): 16-bit single-channel PNGs for depth, edges and keypoints, 8-bit PNGs
for normals (RGB), reshading (one channel) and curvature (the first two channels of an RGB PNG).
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
import re
import sys
from collections.abc import Sequence

import tensorflow as tf

from official.data.image_decode import SkipCounter, looks_decodable
from official.data.imagefolder import DatasetError

log = logging.getLogger(__name__)

RGB, MASK = "rgb", "mask_valid"
_NAME = re.compile(r"^point_(\d+)_view_(\d+)_domain_\w+\.png$")


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """How a task's PNGs are stored: bit depth and the channels that hold the target."""

    bits: int  # 8 or 16 bits per sample
    channels: tuple[int, ...]  # channels of the decoded PNG kept as the target
    no_data: int | None = None  # raw value marking pixels without a target (masked out)


# Channel counts from side-tuning's tlkit/utils.py CHANNELS_TO_TASKS; bit depths from its transforms.
TASKS = {
    "depth_zbuffer": TaskSpec(16, (0,), no_data=65535),  # units of 1/512 m; 65535 = no depth
    "depth_euclidean": TaskSpec(16, (0,), no_data=65535),
    "edge_texture": TaskSpec(16, (0,)),
    "edge_occlusion": TaskSpec(16, (0,)),
    "keypoints2d": TaskSpec(16, (0,)),
    "keypoints3d": TaskSpec(16, (0,)),
    "normal": TaskSpec(8, (0, 1, 2)),  # surface normal xyz mapped to 0-255
    "reshading": TaskSpec(8, (0,)),
    "curvature": TaskSpec(8, (0, 1)),  # two principal curvatures in R and G
    "principal_curvature": TaskSpec(8, (0, 1)),
}


@dataclasses.dataclass
class Frame:
    rgb: str
    target: str
    mask: str  # "" where the building has no mask folder


def split_buildings(csv_path: str, split: str) -> list[str]:
    """Buildings flagged 1 in column `split` of a splits csv (`id,train,val,test`, one building a row, as
    side-tuning's tlkit/data/splits_taskonomy/train_val_test_<size>.csv), in file order."""
    if not os.path.isfile(csv_path):
        raise DatasetError(f"{csv_path}: Taskonomy splits file does not exist")
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = list(rows[0]) if rows else []
    if "id" not in columns or split not in columns:
        raise DatasetError(f"{csv_path}: expected columns id and {split!r}, found {columns}")
    return [r["id"] for r in rows if r[split].strip() == "1"]


def _index(folder: str) -> dict[tuple[int, int], str]:
    """(point, view) -> path of each Taskonomy-named PNG in `folder`."""
    out = {}
    for name in os.listdir(folder):
        m = _NAME.match(name)
        if m:
            out[(int(m.group(1)), int(m.group(2)))] = os.path.join(folder, name)
    return out


def list_frames(root: str, buildings: Sequence[str], task: str) -> tuple[list[Frame], int]:
    """Frames of `task` in `buildings` sorted by (building, point, view), and how many were skipped."""
    if task not in TASKS:
        where = os.path.join(root, buildings[0] if buildings else "<building>", task)
        raise DatasetError(f"{where}: unknown Taskonomy task {task!r} "
                           f"(known: {', '.join(sorted(TASKS))})")
    frames, skipped = [], 0
    for building in buildings:
        folder = os.path.join(root, building)
        if not os.path.isdir(folder):
            raise DatasetError(f"{folder}: Taskonomy building folder does not exist")
        for sub in (RGB, task):
            if not os.path.isdir(os.path.join(folder, sub)):
                raise DatasetError(f"{os.path.join(folder, sub)}: {sub} folder does not exist")
        rgb, target = _index(os.path.join(folder, RGB)), _index(os.path.join(folder, task))
        has_mask = os.path.isdir(os.path.join(folder, MASK))
        masks = _index(os.path.join(folder, MASK)) if has_mask else {}
        for key in sorted(rgb):
            if key not in target or (has_mask and key not in masks):
                skipped += 1
                continue
            frames.append(Frame(rgb[key], target[key], masks.get(key, "")))
    if skipped:
        log.warning("%s: skipped %d of %d RGB frames without a %s target%s", root, skipped, skipped + len(frames),
                    task, " or mask" if any(f.mask for f in frames) else "")
    if not frames:
        raise DatasetError(f"{root}: no (rgb, {task}) frame pairs in buildings {', '.join(buildings)}")
    return frames, skipped


def decode_target(encoded: tf.Tensor, spec: TaskSpec) -> tuple[tf.Tensor, tf.Tensor]:
    """(target float32 (h, w, C) in [0, 1], valid float32 (h, w, 1) from the task's no-data value)."""
    dtype = tf.uint16 if spec.bits == 16 else tf.uint8
    raw = tf.io.decode_png(encoded, channels=0, dtype=dtype)
    raw = tf.gather(raw, list(spec.channels), axis=-1)
    value = tf.cast(raw, tf.float32)
    valid = tf.ones_like(value[..., :1])
    if spec.no_data is not None:
        valid = tf.cast(value[..., :1] != float(spec.no_data), tf.float32)
    return value / float(2**spec.bits - 1), valid


def taskonomy_dataset(
    root: str,
    buildings: Sequence[str],
    task: str,
    image_size: int = 256,
    shuffle: bool = False,
    seed: int | None = None,
    skipped: SkipCounter | None = None,
) -> tf.data.Dataset:
    """Dataset of {"rgb" float32 (s, s, 3) 0-255, "target" float32 (s, s, C) 0-1, "mask" float32 (s, s, 1),
    "source" rgb path} with s = image_size.

    RGB is resized bilinearly; target and mask by nearest neighbour, so no target value is blended with
    a no-data one. The mask is mask_valid > 0 (all ones without a mask folder) and the task's no-data
    pixels. Frames missing a target, and files that are not complete PNGs, are counted in `skipped`.
    """
    spec = TASKS.get(task)
    frames, missing = list_frames(root, buildings, task)
    skipped = skipped or SkipCounter("taskonomy_skipped")
    for _ in range(missing):
        skipped.increment()
    ds = tf.data.Dataset.from_tensor_slices(
        {k: [getattr(f, k) for f in frames] for k in ("rgb", "target", "mask")}
    )
    if shuffle:
        ds = ds.shuffle(len(frames), seed=seed, reshuffle_each_iteration=True)

    def read(paths: dict) -> dict:
        mask = tf.cond(paths["mask"] == "", lambda: tf.constant(b""), lambda: tf.io.read_file(paths["mask"]))
        return {"rgb": tf.io.read_file(paths["rgb"]), "target": tf.io.read_file(paths["target"]), "mask": mask,
                "source": paths["rgb"]}

    def complete(files: dict) -> tf.Tensor:
        ok = tf.logical_and(looks_decodable(files["rgb"]), looks_decodable(files["target"]))
        ok = tf.logical_and(ok, tf.logical_or(files["mask"] == b"", looks_decodable(files["mask"])))

        def skip() -> tf.Tensor:
            with tf.control_dependencies([skipped.increment()]):
                printed = tf.print("WARNING: skipped unreadable Taskonomy frame:", files["source"], output_stream=sys.stderr)
            with tf.control_dependencies([printed]):
                return tf.constant(False)

        return tf.cond(ok, lambda: tf.constant(True), skip)

    def decode(files: dict) -> dict:
        size = [image_size, image_size]
        rgb = tf.cast(tf.io.decode_png(files["rgb"], channels=3), tf.float32)
        target, valid = decode_target(files["target"], spec)

        def mask_file() -> tf.Tensor:
            mask = tf.cast(tf.io.decode_png(files["mask"], channels=1) > 0, tf.float32)
            return tf.image.resize(mask, size, method="nearest")

        valid = tf.image.resize(valid, size, method="nearest")
        mask = valid * tf.cond(files["mask"] == b"", lambda: tf.ones_like(valid), mask_file)
        return {
            "rgb": tf.ensure_shape(tf.clip_by_value(tf.image.resize(rgb, size), 0.0, 255.0), [*size, 3]),
            "target": tf.ensure_shape(tf.image.resize(target, size, method="nearest"), [*size, len(spec.channels)]),
            "mask": tf.ensure_shape(mask, [*size, 1]),
            "source": files["source"],
        }

    ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE).filter(complete)
    return ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)

"""Video object segmentation data on disk (DAVIS 2016/2017, YouTube-VOS 2018) -> tf.data clips with id masks.

Layouts (as davis2017-evaluation and the YouTube-VOS challenge ship them):
- DAVIS: ROOT/JPEGImages/480p/<seq>/00000.jpg, ROOT/Annotations/480p/<seq>/00000.png (palette PNG, pixel =
  object id, 0 background, 255 void), ROOT/ImageSets/<year>/{train,val}.txt (one sequence per line).
  DAVIS 2016 (`year=2016`) is single-object: every non-zero pixel (255 included) becomes object 1.
- YouTube-VOS: ROOT/<split>/JPEGImages/<vid>/<frame>.jpg, ROOT/<split>/Annotations/<vid>/<frame>.png,
  ROOT/<split>/meta.json {"videos": {vid: {"objects": {"1": {"category": ..., "frames": [...]}}}}}; in
  valid only the frame where an object first appears is annotated.
Masks are read with PIL as palette indices (tf.io.decode_png would expand the palette to colours).
A sequence with too few frames, no first-frame mask, a mask that is not indexed ('P' / 'L' mode), frames
or masks of differing sizes, or a bad meta.json entry is counted per reason, logged and skipped; a missing
root, split list or meta.json, or a meta.json without "videos", is a one-line error naming file and field.
Objects of a sequence: DAVIS takes the ids of the first frame's mask (as the DAVIS evaluation does),
YouTube-VOS the ids of meta.json.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
from collections import Counter

import numpy as np
from absl import logging
from PIL import Image

from official.core.errors import PathNotFoundError, UserError

VOID_ID = 255
_MAX_LOGGED = 20


class VosFormatError(UserError, ValueError):
    """A VOS annotation file that does not follow the layout; the message names the file and the field."""


@dataclasses.dataclass
class VosSequence:
    name: str
    frames: list[str]  # JPEG paths in frame order
    masks: list[str | None]  # PNG path per frame, None where the frame is not annotated
    objects: tuple[int, ...]  # object ids (1-based)
    size: tuple[int, int]  # (height, width) of every frame and mask
    binary: bool = False  # DAVIS 2016: all non-zero ids -> 1


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _check(frames: list[str], masks: list[str | None], min_frames: int) -> tuple[str, str | tuple[int, int]]:
    """('', (h, w)) for a usable sequence, else (reason, message)."""
    if len(frames) < min_frames:
        return "too_short", f"{len(frames)} frames < {min_frames}"
    if masks[0] is None:
        return "no_first_mask", f"no annotation for frame {_stem(frames[0])}"
    sizes = set()
    for path in frames + [m for m in masks if m is not None]:
        try:
            with Image.open(path) as img:
                sizes.add(img.size[::-1])
                if path.endswith(".png") and img.mode not in ("P", "L"):
                    return "mask_not_indexed", f"{path}: mode {img.mode}, expected a palette ('P') PNG"
        except OSError as e:
            return "unreadable", f"{path}: {e}"
    if len(sizes) != 1:
        return "size_mismatch", f"frame/mask sizes differ: {sorted(sizes)}"
    return "", sizes.pop()


def _log_skips(dataset: str, skipped: dict[str, list[str]], total: int) -> Counter:
    counts = Counter({reason: len(names) for reason, names in skipped.items()})
    if counts:
        logging.warning("%s: %d of %d sequences skipped: %s", dataset, sum(counts.values()), total, dict(counts))
    return counts


def list_davis_sequences(root: str, split: str = "val", year: int = 2017, resolution: str = "480p",
                         min_frames: int = 2) -> tuple[list[VosSequence], Counter]:
    """The sequences of ImageSets/<year>/<split>.txt and a Counter of skipped ones per reason."""
    list_path = os.path.join(root, "ImageSets", str(year), f"{split}.txt")
    if not os.path.isfile(list_path):
        raise PathNotFoundError(f"{list_path}: DAVIS sequence list (ImageSets/<year>/<split>.txt) does not exist")
    with open(list_path, encoding="utf-8") as f:
        names = [line.strip() for line in f if line.strip()]
    out, skipped = [], {}
    for name in names:
        frames = sorted(glob.glob(os.path.join(root, "JPEGImages", resolution, name, "*.jpg")))
        mask_dir = os.path.join(root, "Annotations", resolution, name)
        masks = [p if os.path.isfile(p) else None for p in (os.path.join(mask_dir, _stem(f) + ".png") for f in frames)]
        reason, info = _check(frames, masks, min_frames) if frames else ("missing_frames", "no JPEGImages")
        if not reason:
            first = np.array(Image.open(masks[0]))
            ids = [1] if year == 2016 and first.any() else [int(i) for i in np.unique(first) if 0 < i < VOID_ID]
            if not ids:
                reason, info = "no_objects", f"{masks[0]}: no object id in the first mask"
        if reason:
            skipped.setdefault(reason, []).append(name)
            if sum(len(v) for v in skipped.values()) <= _MAX_LOGGED:
                logging.warning("DAVIS sequence %s skipped (%s): %s", name, reason, info)
            continue
        out.append(VosSequence(name, frames, masks, tuple(ids), info, binary=year == 2016))
    return out, _log_skips(f"DAVIS {year} {split}", skipped, len(names))


def _meta_objects(meta_path: str, vid: str, entry) -> tuple[int, ...]:
    objects = entry.get("objects") if isinstance(entry, dict) else None
    if not isinstance(objects, dict) or not objects:
        raise ValueError(f"{meta_path}: videos.{vid}.objects missing or empty")
    try:
        return tuple(sorted(int(k) for k in objects))
    except ValueError:
        raise ValueError(f"{meta_path}: videos.{vid}.objects has a non-integer id {sorted(objects)}") from None


def list_youtube_vos_sequences(root: str, split: str = "train", min_frames: int = 2) -> tuple[list[VosSequence], Counter]:
    """The videos of ROOT/<split>/meta.json and a Counter of skipped ones per reason."""
    meta_path = os.path.join(root, split, "meta.json")
    if not os.path.isfile(meta_path):
        raise PathNotFoundError(f"{meta_path}: YouTube-VOS meta.json does not exist")
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except json.JSONDecodeError as e:
        raise VosFormatError(f"{meta_path}: not valid JSON ({e.msg}, line {e.lineno})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("videos"), dict):
        raise VosFormatError(f"{meta_path}: no 'videos' object at the top level")
    out, skipped = [], {}
    for vid, entry in meta["videos"].items():
        frames = sorted(glob.glob(os.path.join(root, split, "JPEGImages", vid, "*.jpg")))
        mask_dir = os.path.join(root, split, "Annotations", vid)
        masks = [p if os.path.isfile(p) else None for p in (os.path.join(mask_dir, _stem(f) + ".png") for f in frames)]
        try:
            objects = _meta_objects(meta_path, vid, entry)
            reason, info = _check(frames, masks, min_frames) if frames else ("missing_frames", "no JPEGImages")
        except ValueError as e:
            reason, info = "bad_meta", str(e)
        if reason:
            skipped.setdefault(reason, []).append(vid)
            if sum(len(v) for v in skipped.values()) <= _MAX_LOGGED:
                logging.warning("YouTube-VOS video %s skipped (%s): %s", vid, reason, info)
            continue
        out.append(VosSequence(vid, frames, masks, objects, info))
    return out, _log_skips(f"YouTube-VOS {split}", skipped, len(meta["videos"]))


def read_mask(path: str | None, size: tuple[int, int], binary: bool = False) -> np.ndarray:
    """(H, W) int32 object ids of a palette PNG (zeros for an unannotated frame)."""
    if path is None:
        return np.zeros(size, np.int32)
    ids = np.array(Image.open(path)).astype(np.int32)
    return (ids != 0).astype(np.int32) if binary else ids


def read_clip(seq: VosSequence, start: int, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames (L, H, W, 3) uint8, id masks (L, H, W) int32 and per-frame annotated flags (L,) of one clip."""
    idx = range(start, start + length)
    frames = np.stack([np.array(Image.open(seq.frames[i]).convert("RGB")) for i in idx])
    masks = np.stack([read_mask(seq.masks[i], seq.size, seq.binary) for i in idx])
    return frames, masks, np.array([seq.masks[i] is not None for i in idx])


def vos_dataset(sequences: list[VosSequence], clip_length: int, training: bool, seed: int = 0):
    """tf.data of {"frames" (L, H, W, 3) uint8, "masks" (L, H, W) int32 ids, "annotated" (L,) bool,
    "num_objects" int32, "sequence" string, "start" int32}.

    Training: sequences shuffled and repeated, one clip at a uniform random start each. Evaluation: every
    sequence once, cut into consecutive clips of `clip_length` frames (the tail shorter than a clip is
    dropped; `clip_length` = 0 gives whole sequences). Sizes vary between sequences: batch with
    padded_batch or resize after this."""
    import tensorflow as tf

    if training:
        index = [(i, -1) for i in range(len(sequences)) if len(sequences[i].frames) >= clip_length]
    else:
        index = [(i, s) for i, seq in enumerate(sequences)
                 for s in (range(0, len(seq.frames) - clip_length + 1, clip_length) if clip_length else [0])]
    if not index:
        raise UserError(f"vos_dataset: no sequence has {clip_length} frames")
    ds = tf.data.Dataset.from_tensor_slices(np.array(index, np.int64))
    if training:
        ds = ds.shuffle(len(index), seed=seed, reshuffle_each_iteration=True).repeat()
        # a seed per clip from a seeded stage: the parallel loads draw their random starts from it, so every run
        # reads the same clips in the same order (one shared generator would serve whichever load ran first)
        ds = tf.data.Dataset.zip((ds, tf.data.Dataset.random(seed=seed))).map(lambda ix, s: tf.concat([ix, [s]], 0))

    def load(item):
        i, start = int(item[0]), int(item[1])
        seq = sequences[i]
        length = clip_length or len(seq.frames)
        if start < 0:
            rng = np.random.default_rng(int(item[2]) % 2**63)
            start = int(rng.integers(0, len(seq.frames) - length + 1))
        frames, masks, annotated = read_clip(seq, start, length)
        return frames, masks, annotated, np.int32(max(seq.objects)), seq.name.encode(), np.int32(start)

    def to_dict(item):
        out = tf.numpy_function(load, [item], [tf.uint8, tf.int32, tf.bool, tf.int32, tf.string, tf.int32],
                                stateful=training)
        frames, masks, annotated, num_objects, name, start = out
        length = clip_length or None
        return {"frames": tf.ensure_shape(frames, [length, None, None, 3]),
                "masks": tf.ensure_shape(masks, [length, None, None]),
                "annotated": tf.ensure_shape(annotated, [length]),
                "num_objects": tf.ensure_shape(num_objects, []), "sequence": tf.ensure_shape(name, []),
                "start": tf.ensure_shape(start, [])}

    if training:
        return ds.map(to_dict, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.map(to_dict)

"""FPHA (First-Person Hand Action benchmark, Garcia-Hernando et al. CVPR 2018): the real file tree -> clips.

The layout (guiggh/hand_pose_action README):
    root/Video_files/Subject_X/<action>/<seq>/color/color_XXXX.jpeg     1920 x 1080 RGB frames
    root/Video_files/Subject_X/<action>/<seq>/depth/depth_XXXX.png      640 x 480 depth (not read here)
    root/Hand_pose_annotation_v1/Subject_X/<action>/<seq>/skeleton.txt  one line per frame:
        `t x_1 y_1 z_1 ... x_21 y_21 z_21` (frame number + 21 joints, mm, WORLD coordinates)
    root/data_split_action_recognition.txt  the 1:1 split: a `Training 600` header, lines
        `Subject_1/<action>/<seq> <label>`, then a `Test 575` header and the test lines
The README of the v1.1 release calls the annotation folder `Hand_pose_annotation_v1_1`; both are looked for.

Camera (README "Camera parameters"): world -> colour camera is X_cam = R X_world + t with the 3x4 [R | t]
below (mm; camera.py's world_to_camera takes the centre T = -R^T t); colour intrinsics fx = 1395.749023, fy = 1395.749268, u0 = 935.732544, v0 = 540.681030.
Joint order: Wrist, TMCP, IMCP, MMCP, RMCP, PMCP, then per finger (T, I, M, R, P) PIP, DIP, TIP.

`fpha_clips` yields per sequence a T-frame clip, cropped around the hand (one square box per clip, from the
projected ground-truth joints + padding: the detector-free crop the spec calls a data-pipeline step) and
resized to `image_size`, with the intrinsics carried into the crop. Projection goes through
official/ops/camera.py (world_to_camera, project). Elements: (clip float32 (T, S, S, 3) RGB 0-255,
{"label" int32, "joints_uv" (T, 21, 2) crop pixels (pixel centres at integers), "joints_cam" (T, 21, 3)
mm, "focal" (2,), "center" (2,) crop pixels, "has_label", "has_pose" float32 0/1 (weak supervision)}).

Validation: a missing root / split file is a PathNotFoundError naming it; a malformed split line or
skeleton line is an FphaFormatError naming file, line and field; a sequence with no frames, no skeleton,
a malformed skeleton or fewer skeleton lines than frames is logged, counted per reason and skipped.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import Counter
from typing import Any

import numpy as np
import tensorflow as tf

from official.core.errors import BadValueError, PathNotFoundError, UserError

log = logging.getLogger(__name__)

HAND_JOINTS = ("Wrist", "TMCP", "IMCP", "MMCP", "RMCP", "PMCP", "TPIP", "TDIP", "TTIP", "IPIP", "IDIP",
               "ITIP", "MPIP", "MDIP", "MTIP", "RPIP", "RDIP", "RTIP", "PPIP", "PDIP", "PTIP")
NUM_JOINTS = 21
# Parent of each joint: MCPs hang off the wrist; finger f's PIP off its MCP (1 + f), DIP off PIP, TIP off DIP.
HAND_PARENTS = (-1, 0, 0, 0, 0, 0, 1, 6, 7, 2, 9, 10, 3, 12, 13, 4, 15, 16, 5, 18, 19)
HAND_LIMBS = tuple((p, j) for j, p in enumerate(HAND_PARENTS) if p >= 0)
ROOT_JOINT = 0  # the wrist

# README "Camera parameters", RGB sensor and extrinsics (mm).
COLOR_FOCAL = (1395.749023, 1395.749268)
COLOR_CENTER = (935.732544, 540.681030)
COLOR_SIZE = (1080, 1920)  # (height, width)
CAM_ROTATION = ((0.999988496304, -0.00468848412856, 0.000982563360594),
                (0.00469115935266, 0.999985218048, -0.00273845880292),
                (-0.000969709653873, 0.00274303671904, 0.99999576807))
CAM_TRANSLATION = (25.7, 1.22, 3.902)  # extrinsic t of X_cam = R X + t (README), not a camera centre
DEPTH_FOCAL = (475.065948, 475.065857)
DEPTH_CENTER = (315.944855, 245.287079)

VIDEO_DIR = "Video_files"
ANNOTATION_DIRS = ("Hand_pose_annotation_v1", "Hand_pose_annotation_v1_1")
SPLIT_FILE = "data_split_action_recognition.txt"
SPLIT_HEADERS = {"Training": "train", "Test": "test"}
SKIP_REASONS = ("no_frames", "no_skeleton", "bad_skeleton", "short_skeleton")


class FphaFormatError(UserError, ValueError):
    """A malformed FPHA file; the message names the file, the line and the field."""


@dataclasses.dataclass(frozen=True)
class FphaSequence:
    """One listed sequence: its colour frames (sorted) and its world-frame skeleton (frames, 21, 3) mm."""

    name: str  # Subject_X/<action>/<seq>
    label: int
    frames: tuple[str, ...]
    joints_world: np.ndarray


def read_skeleton(path: str) -> tuple[np.ndarray, np.ndarray]:
    """skeleton.txt -> (frame numbers (N,) int, joints (N, 21, 3) float32 mm, world frame)."""
    frames, joints = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            words = line.split()
            if not words:
                continue
            if len(words) != 1 + 3 * NUM_JOINTS:
                raise FphaFormatError(f"{path}: line {number}: expected 64 numbers (frame + 21 x xyz), got {len(words)}")
            try:
                values = [float(w) for w in words]
            except ValueError as err:
                raise FphaFormatError(f"{path}: line {number}: not a number ({err})") from err
            frames.append(int(values[0]))
            joints.append(values[1:])
    return np.asarray(frames, np.int64), np.asarray(joints, np.float32).reshape(-1, NUM_JOINTS, 3)


def read_split(path: str) -> dict[str, list[tuple[str, int]]]:
    """data_split_action_recognition.txt -> {"train": [(Subject_X/<action>/<seq>, label)], "test": [...]}."""
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: no FPHA split file")
    out: dict[str, list[tuple[str, int]]] = {"train": [], "test": []}
    current = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            words = line.split()
            if not words:
                continue
            if words[0] in SPLIT_HEADERS:
                current = SPLIT_HEADERS[words[0]]
                continue
            if current is None:
                raise FphaFormatError(f"{path}: line {number}: sequence before a 'Training' or 'Test' header")
            if len(words) < 2:
                raise FphaFormatError(f"{path}: line {number}: field 'label' missing after {words[0]!r}")
            try:
                label = int(words[1])
            except ValueError as err:
                raise FphaFormatError(f"{path}: line {number}: field 'label' is not an integer: {words[1]!r}") from err
            out[current].append((words[0].strip("/"), label))
    return out


def annotation_root(root: str) -> str:
    for name in ANNOTATION_DIRS:
        if os.path.isdir(os.path.join(root, name)):
            return os.path.join(root, name)
    raise PathNotFoundError(f"{root}: no {' or '.join(ANNOTATION_DIRS)} folder (FPHA hand-pose annotations)")


def list_sequences(root: str, split: str, split_file: str = "") -> tuple[list[FphaSequence], Counter]:
    """The split's readable sequences and a Counter of skipped ones per reason (logged)."""
    if not os.path.isdir(root):
        raise PathNotFoundError(f"{root}: no FPHA root folder")
    if split not in SPLIT_HEADERS.values():
        raise BadValueError(f"data.split: expected 'train' or 'test', got {split!r}")
    listed = read_split(split_file or os.path.join(root, SPLIT_FILE))[split]
    poses = annotation_root(root)
    sequences, skipped = [], Counter()
    for name, label in listed:
        color = os.path.join(root, VIDEO_DIR, name, "color")
        frames = sorted(f for f in os.listdir(color) if f.endswith(".jpeg")) if os.path.isdir(color) else []
        skeleton = os.path.join(poses, name, "skeleton.txt")
        reason = None
        if not frames:
            reason = "no_frames"
        elif not os.path.isfile(skeleton):
            reason = "no_skeleton"
        else:
            try:
                _, joints = read_skeleton(skeleton)
            except FphaFormatError as err:
                reason, detail = "bad_skeleton", str(err)
            else:
                if len(joints) < len(frames):
                    reason = "short_skeleton"
        if reason:
            skipped[reason] += 1
            log.warning("fpha: skipping %s (%s)", name, detail if reason == "bad_skeleton" else reason)
            continue
        sequences.append(FphaSequence(name, label, tuple(os.path.join(color, f) for f in frames), joints[: len(frames)]))
    if skipped:
        log.warning("fpha: %d of %d %s sequences skipped: %s", sum(skipped.values()), len(listed), split, dict(skipped))
    return sequences, skipped


def sample_indices(length, num_frames: int, training: bool, seed=None):
    """TSN-style: T equal segments of the sequence, a random frame of each (training) or its centre."""
    length_f = tf.cast(length, tf.float32)
    starts = tf.range(num_frames, dtype=tf.float32) * length_f / num_frames
    offsets = (tf.random.stateless_uniform([num_frames], seed) if training else tf.fill([num_frames], 0.5))
    idx = tf.cast(tf.floor(starts + offsets * length_f / num_frames), tf.int32)
    return tf.clip_by_value(idx, 0, tf.cast(length, tf.int32) - 1)


def crop_box(uv, padding: float):
    """Square (x0, y0, side) in pixels around all (..., 2) points, each side grown by `padding` x size."""
    flat = tf.reshape(uv, [-1, 2])
    lo, hi = tf.reduce_min(flat, 0), tf.reduce_max(flat, 0)
    side = tf.reduce_max(hi - lo) * (1.0 + 2.0 * padding) + 1.0
    centre = (lo + hi) / 2.0
    return centre[0] - side / 2.0, centre[1] - side / 2.0, side


def crop_intrinsics(focal, center, x0, y0, side, size: int):
    """Intrinsics of the crop [x0, x0 + side) resized to `size` (half-pixel: u' = s (u + 0.5 - x0) - 0.5)."""
    scale = size / side
    return focal * scale, (center + 0.5 - tf.stack([x0, y0])) * scale - 0.5


def crop_frames(frames, image_hw, x0, y0, side, size: int):
    """(T, H, W, 3) -> (T, size, size, 3) float32: bilinear samples at the crop's output pixel centres."""
    height, width = tf.cast(image_hw[0], tf.float32), tf.cast(image_hw[1], tf.float32)
    step = side / size
    first_x, first_y = x0 + 0.5 * step - 0.5, y0 + 0.5 * step - 0.5
    last_x, last_y = first_x + (size - 1) * step, first_y + (size - 1) * step
    box = tf.stack([first_y / (height - 1), first_x / (width - 1), last_y / (height - 1), last_x / (width - 1)])
    count = tf.shape(frames)[0]
    boxes = tf.tile(box[None], [count, 1])
    return tf.image.crop_and_resize(tf.cast(frames, tf.float32), boxes, tf.range(count), [size, size])


def supervision_mask(index, fraction: float, salt: int):
    """1.0 for a deterministic `fraction` of sequence indices (weak supervision), else 0.0."""
    if fraction >= 1.0:
        return tf.constant(1.0)
    h = tf.math.floormod(tf.cast(index, tf.int64) * 2654435761 + salt, 1000)
    return tf.cast(tf.cast(h, tf.float32) < fraction * 1000.0, tf.float32)


def fpha_clips(
    sequences: list[FphaSequence], num_frames: int, image_size: int, training: bool, seed: int = 0,
    crop_padding: float = 0.2, focal=COLOR_FOCAL, center=COLOR_CENTER, rotation=CAM_ROTATION,
    translation=CAM_TRANSLATION, label_fraction: float = 1.0, pose_fraction: float = 1.0,
) -> tf.data.Dataset:
    """Unbatched (inputs, targets) clips of `sequences` (see the module docstring); repeats when training."""
    from official.ops import camera

    if not sequences:
        raise BadValueError("fpha: no readable sequences to read clips from")
    lengths = np.asarray([len(s.frames) for s in sequences], np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
    paths = tf.constant([p for s in sequences for p in s.frames])
    joints = tf.constant(np.concatenate([s.joints_world for s in sequences]), tf.float32)
    labels = tf.constant([s.label for s in sequences], tf.int32)
    focal_t, center_t = tf.constant(focal, tf.float32), tf.constant(center, tf.float32)
    rot_t = tf.constant(rotation, tf.float32)
    centre_t = tf.constant(camera_centre(rotation, translation), tf.float32)

    def load(index, element_seed):
        count = tf.gather(lengths, index)
        idx = tf.gather(offsets, index) + sample_indices(count, num_frames, training, element_seed)
        world = tf.gather(joints, idx)  # (T, 21, 3)
        cam = camera.world_to_camera(world, rot_t, centre_t)
        uv = camera.project(cam, focal_t, center_t)
        frames = tf.stack([tf.io.decode_jpeg(tf.io.read_file(tf.gather(paths, idx[t])), channels=3) for t in range(num_frames)])
        x0, y0, side = crop_box(uv, crop_padding)
        clip = crop_frames(frames, tf.shape(frames)[1:3], x0, y0, side, image_size)
        f_crop, c_crop = crop_intrinsics(focal_t, center_t, x0, y0, side, image_size)
        uv_crop = (uv + 0.5 - tf.stack([x0, y0])) * (image_size / side) - 0.5
        clip.set_shape([num_frames, image_size, image_size, 3])
        targets = {
            "label": tf.gather(labels, index), "joints_uv": uv_crop, "joints_cam": cam, "focal": f_crop,
            "center": c_crop, "has_label": supervision_mask(index, label_fraction, 17),
            "has_pose": supervision_mask(index, pose_fraction, 91),
        }
        return clip, targets

    ds = tf.data.Dataset.range(len(sequences))
    if training:
        ds = ds.repeat().shuffle(max(len(sequences), 1), seed=seed)
    ds = ds.enumerate().map(
        lambda i, index: load(index, tf.stack([tf.cast(seed, tf.int64), i])), num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True)
    return ds


# --- fixtures and synthetic sets: the writer of the real layout --------------------------------------------


def camera_centre(rotation=CAM_ROTATION, translation=CAM_TRANSLATION) -> np.ndarray:
    """The camera centre T = -R^T t in world mm: official/ops/camera.py's world_to_camera takes the
    3DMPPE convention cam = R (X - T), FPHA gives the extrinsic t of cam = R X + t."""
    r = np.asarray(rotation, np.float64)
    return (-r.T @ np.asarray(translation, np.float64)).astype(np.float64)


def world_from_camera(points_cam: np.ndarray, rotation=CAM_ROTATION, translation=CAM_TRANSLATION) -> np.ndarray:
    """Camera-frame points -> FPHA world mm (for writers), through camera.camera_to_world."""
    from official.ops import camera

    world = camera.camera_to_world(np.asarray(points_cam, np.float64), np.asarray(rotation, np.float64),
                                   camera_centre(rotation, translation))
    return np.asarray(world, np.float32)


def write_sequence(root: str, name: str, images: list[np.ndarray], joints_world: np.ndarray,
                   depth_hw: tuple[int, int] | None = None, quality: int = 90) -> None:
    """Writes one sequence in the FPHA layout: color_XXXX.jpeg frames (+ depth PNGs) and skeleton.txt."""
    from PIL import Image

    color = os.path.join(root, VIDEO_DIR, name, "color")
    os.makedirs(color, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(np.asarray(image, np.uint8)).save(os.path.join(color, f"color_{i:04d}.jpeg"), quality=quality)
    if depth_hw:
        depth = os.path.join(root, VIDEO_DIR, name, "depth")
        os.makedirs(depth, exist_ok=True)
        for i in range(len(images)):
            Image.fromarray(np.full(depth_hw, 500, np.uint16)).save(os.path.join(depth, f"depth_{i:04d}.png"))
    skel = os.path.join(root, ANNOTATION_DIRS[0], name)
    os.makedirs(skel, exist_ok=True)
    with open(os.path.join(skel, "skeleton.txt"), "w", encoding="utf-8") as f:
        for i, frame in enumerate(np.asarray(joints_world).reshape(len(images), -1)):
            f.write(f"{i} " + " ".join(f"{v:.4f}" for v in frame) + "\n")


def write_split(root: str, splits: dict[str, list[tuple[str, int]]]) -> None:
    """data_split_action_recognition.txt with the `Training N` / `Test M` headers."""
    with open(os.path.join(root, SPLIT_FILE), "w", encoding="utf-8") as f:
        for header, key in SPLIT_HEADERS.items():
            f.write(f"{header} {len(splits.get(key, []))}\n")
            for name, label in splits.get(key, []):
                f.write(f"{name} {label}\n")


def write_fixture(root: str, frames: int = 10, size_hw: tuple[int, int] = (48, 64), seed: int = 0) -> dict[str, Any]:
    """The spec's fixture: 2 subjects x 2 actions x 1 sequence of `frames` tiny JPEGs + depth PNGs, a
    skeleton.txt per sequence (frame id + 63 numbers) and a split file (Subject_1 train, Subject_2 test).
    Joints sit in front of the camera so that they project inside a COLOR_SIZE frame."""
    rng = np.random.default_rng(seed)
    splits: dict[str, list[tuple[str, int]]] = {"train": [], "test": []}
    written = {}
    for subject, split in ((1, "train"), (2, "test")):
        for label, action in enumerate(("open_juice_bottle", "pour_milk")):
            name = f"Subject_{subject}/{action}/1"
            cam = rng.normal(0.0, 40.0, (frames, NUM_JOINTS, 3)) + np.array([0.0, 0.0, 450.0])
            world = world_from_camera(cam)
            images = [rng.integers(0, 255, (*size_hw, 3), dtype=np.uint8) for _ in range(frames)]
            write_sequence(root, name, images, world, depth_hw=size_hw)
            splits[split].append((name, label))
            written[name] = world
    write_split(root, splits)
    return written

"""Writes synthetic 21-joint hand sequences in the FPHA layout (official/data/fpha.py reads them).

    python -m tools.make_hands3d --out=data/hands3d [--per_subject=6] [--frames=16] [--seed=0] [--force]

A hand in FPHA joint order (wrist, 5 MCPs, then PIP/DIP/TIP per finger) with fixed bone lengths moves
with a class-specific trajectory: 0 "wave" (in-plane rotation about the wrist, +-30 deg), 1 "grasp"
(all fingers flex and extend, 0-70 deg per joint), 2 "swipe" (translation along x, +-40 mm); phase,
speed, scale, position and a small tilt are random per sequence. Joints are placed in the camera frame
(~500 mm away), written to skeleton.txt in FPHA WORLD coordinates (through FPHA's extrinsics) and drawn
(coloured limbs + one colour per joint) into 128 x 96 JPEGs with a pinhole camera f = 160 px,
c = (63.5, 47.5) (the `gesture_handpose_tiny_hands3d` experiment's intrinsics). Subjects 1-3 are listed as
training sequences, subject 4 as test. Written to a temporary folder, renamed into place with a
`.complete` marker; an existing complete set is kept unless --force.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from absl import app, flags

from official.core.file_io import atomic_directory
from official.data import fpha

FLAGS = flags.FLAGS

CLASSES = ("wave", "grasp", "swipe")
IMAGE_HW = (96, 128)
FOCAL = (160.0, 160.0)
CENTER = (63.5, 47.5)
TRAIN_SUBJECTS = (1, 2, 3)
TEST_SUBJECTS = (4,)
# Hand frame (mm): x across the palm, y along the fingers, z out of the palm. MCP (x, y) per finger T, I, M, R, P.
MCP_XY = ((-30.0, 25.0), (-20.0, 80.0), (0.0, 85.0), (18.0, 80.0), (34.0, 70.0))
FINGER_ANGLE_DEG = (-50.0, -8.0, 0.0, 8.0, 16.0)  # in-plane direction of each finger from +y
BONES_MM = ((35.0, 30.0, 25.0), (40.0, 25.0, 20.0), (45.0, 28.0, 22.0), (40.0, 26.0, 20.0), (30.0, 20.0, 18.0))


def hand_pose(flexion_deg: float, scale: float = 1.0) -> np.ndarray:
    """(21, 3) joints in the hand frame, FPHA order, all fingers flexed by `flexion_deg` per joint."""
    joints = np.zeros((fpha.NUM_JOINTS, 3))
    for f in range(5):
        joints[1 + f] = (*MCP_XY[f], 0.0)
        a = np.radians(FINGER_ANGLE_DEG[f])
        u = np.array([np.sin(a), np.cos(a), 0.0])
        n = np.array([0.0, 0.0, 1.0])
        point, bend = joints[1 + f].copy(), 0.0
        for k, length in enumerate(BONES_MM[f]):
            bend += np.radians(flexion_deg)
            point = point + length * (np.cos(bend) * u + np.sin(bend) * n)
            joints[6 + 3 * f + k] = point
    return joints * scale


def _rotation(axis: int, deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    i, j = [k for k in range(3) if k != axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def sequence_joints(label: int, frames: int, rng: np.random.Generator) -> np.ndarray:
    """(frames, 21, 3) camera-frame joints (mm) of one sequence of class `label`."""
    phase, speed = rng.uniform(0, 2 * np.pi), rng.uniform(0.8, 1.2)
    scale = rng.uniform(0.9, 1.1)
    base = np.array([rng.uniform(-15, 15), rng.uniform(25, 40), rng.uniform(480, 520)])
    tilt = _rotation(0, rng.uniform(-15, 15)) @ _rotation(1, rng.uniform(-15, 15))
    to_cam = np.diag([1.0, -1.0, -1.0])  # fingers up in the image (y down), palm towards the camera
    out = []
    for t in range(frames):
        s = np.sin(2 * np.pi * speed * t / frames + phase)
        flex, roll, shift = 15.0, 0.0, 0.0
        if label == 0:
            roll = 30.0 * s
        elif label == 1:
            flex = 35.0 + 35.0 * s
        else:
            shift = 40.0 * (2.0 * ((speed * t / frames + phase / (2 * np.pi)) % 1.0) - 1.0)
        local = hand_pose(flex, scale) @ _rotation(2, roll).T
        cam = local @ (tilt @ to_cam).T + base + np.array([shift, 0.0, 0.0])
        out.append(cam)
    return np.asarray(out)


def render(uv: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A (H, W, 3) uint8 frame: grey noisy background, limbs, and a coloured disc per joint."""
    from PIL import Image, ImageDraw

    height, width = IMAGE_HW
    background = rng.integers(30, 60, (height, width, 3), dtype=np.uint8)
    image = Image.fromarray(background)
    draw = ImageDraw.Draw(image)
    for a, b in fpha.HAND_LIMBS:
        draw.line([tuple(uv[a]), tuple(uv[b])], fill=(200, 190, 170), width=2)
    for j, (u, v) in enumerate(uv):
        hue = j / fpha.NUM_JOINTS
        colour = tuple(int(255 * (0.5 + 0.5 * np.cos(2 * np.pi * (hue + k / 3)))) for k in range(3))
        draw.ellipse([u - 2, v - 2, u + 2, v + 2], fill=colour)
    return np.asarray(image)


def project(points_cam: np.ndarray) -> np.ndarray:
    """Camera mm -> pixels with the set's intrinsics (official/ops/camera.py)."""
    from official.ops import camera

    return np.asarray(camera.project(points_cam, np.asarray(FOCAL), np.asarray(CENTER)))


def write_hands3d(out: str, per_subject: int = 6, frames: int = 16, seed: int = 0, force: bool = False) -> dict:
    """Writes the set atomically; returns {"train": sequences, "test": sequences} ({} if kept)."""
    if per_subject < 1 or frames < 2:
        raise ValueError(f"make_hands3d: --per_subject must be >= 1 and --frames >= 2, got {per_subject}, {frames}")
    marker = os.path.join(out, ".complete")
    if os.path.exists(marker) and not force:
        print(f"hands3d set already at {out}; --force rewrites")
        return {}
    rng = np.random.default_rng(seed)
    splits: dict[str, list[tuple[str, int]]] = {"train": [], "test": []}
    with atomic_directory(out, f"make_hands3d seed={seed} per_subject={per_subject} frames={frames}") as tmp:
        for subject in (*TRAIN_SUBJECTS, *TEST_SUBJECTS):
            split = "train" if subject in TRAIN_SUBJECTS else "test"
            for label, action in enumerate(CLASSES):
                for rep in range(1, per_subject + 1):
                    cam = sequence_joints(label, frames, rng)
                    images = [render(uv, rng) for uv in project(cam)]
                    name = f"Subject_{subject}/{action}/{rep}"
                    fpha.write_sequence(tmp, name, images, fpha.world_from_camera(cam))
                    splits[split].append((name, label))
        fpha.write_split(tmp, splits)
    return {k: len(v) for k, v in splits.items()}


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder (the FPHA root).")
    flags.DEFINE_integer("per_subject", 6, "Sequences per class and subject (subjects 1-3 train, 4 test).")
    flags.DEFINE_integer("frames", 16, "Frames per sequence.")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def main(argv: list[str]) -> None:
    del argv
    if not FLAGS.out:
        sys.exit("make_hands3d: --out is required")
    try:
        counts = write_hands3d(FLAGS.out, FLAGS.per_subject, FLAGS.frames, FLAGS.seed, FLAGS.force)
    except (ValueError, OSError) as err:
        sys.exit(f"make_hands3d: {err}")
    if counts:
        print(f"wrote hands3d to {FLAGS.out}: {counts}")


if __name__ == "__main__":
    define_flags()
    app.run(main)

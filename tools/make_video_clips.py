"""Writes moving-shape videos as UCF101-style frame folders that official/data/video_frames.py reads.

Each video is a bright square of random colour and size on a dark noisy background, moving with constant speed
in one of 4 directions (the class: right, left, down, up) and bouncing off the borders; frames are JPEGs
`ROOT/<class>/<video>/image_%05d.jpg`, with ROOT/ClassInd.txt and ROOT/{train,test}_split01.csv
(`class/video,num_frames`), as MemDPC's process_data writes for UCF101:
    python -m tools.make_video_clips --out=data/moving_clips    # 64 / 32 videos of 48 frames at 64 x 64
Pretext and linear-probe runs: README of research/video/memdpc ("Small run"). The set is written to a temporary
folder and renamed into place with a `.complete` marker; a complete set is kept unless --force.
"""

from __future__ import annotations

import io
import os
import sys

import numpy as np
from absl import app, flags
from PIL import Image

from official.core.file_io import atomic_directory
from official.data.video_frames import FRAME_PATTERN, write_split_csv

FLAGS = flags.FLAGS
CLASSES = ("MoveRight", "MoveLeft", "MoveDown", "MoveUp")
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output root (class folders, ClassInd.txt and split CSVs are written inside).")
    flags.DEFINE_integer("train", 64, "Training videos (spread evenly over the 4 classes).")
    flags.DEFINE_integer("test", 32, "Test videos.")
    flags.DEFINE_integer("frames", 48, "Frames per video (a clip of 8 x 5 frames at downsample 1 needs more than 40).")
    flags.DEFINE_integer("size", 64, "Frame side in pixels.")
    flags.DEFINE_integer("seed", 0, "Random seed of the videos.")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def video_frames(rng: np.random.Generator, label: int, frames: int, size: int) -> np.ndarray:
    """(frames, size, size, 3) uint8: one square moving in DIRECTIONS[label], bouncing at the borders."""
    side = int(rng.integers(size // 6, size // 3))
    pos = rng.uniform(0, size - side, 2)
    vel = np.array(DIRECTIONS[label], float) * rng.uniform(1.5, 3.0)
    colour = rng.uniform(150, 255, 3)
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        img = rng.normal(30, 8, (size, size, 3))
        y, x = pos.astype(int)
        img[y:y + side, x:x + side] = colour
        out[t] = np.clip(img, 0, 255)
        pos += vel
        for a in range(2):
            if pos[a] < 0 or pos[a] > size - side:
                vel[a] = -vel[a]
                pos[a] = np.clip(pos[a], 0, size - side)
    return out


def write_video_clips(out: str, train: int = 64, test: int = 32, frames: int = 48, size: int = 64, seed: int = 0,
                      force: bool = False) -> str:
    """Writes the set (see the module docstring); returns `out`."""
    if os.path.isfile(os.path.join(out, ".complete")) and not force:
        print(f"make_video_clips: {out} is complete (use --force to rewrite)")
        return out
    rng = np.random.default_rng(seed)
    with atomic_directory(out, f"make_video_clips train={train} test={test} frames={frames} size={size} seed={seed}") as tmp:
        with open(os.path.join(tmp, "ClassInd.txt"), "w") as f:
            f.write("".join(f"{i + 1} {c}\n" for i, c in enumerate(CLASSES)))
        for split, count in (("train", train), ("test", test)):
            videos = []
            for i in range(count):
                label = i % len(CLASSES)
                cls, vid = CLASSES[label], f"v_{CLASSES[label]}_{split}{i:04d}"
                folder = os.path.join(tmp, cls, vid)
                os.makedirs(folder)
                for t, frame in enumerate(video_frames(rng, label, frames, size)):
                    buf = io.BytesIO()
                    Image.fromarray(frame).save(buf, format="JPEG", quality=90)
                    with open(os.path.join(folder, FRAME_PATTERN % (t + 1)), "wb") as fh:
                        fh.write(buf.getvalue())
                videos.append((cls, vid))
            write_split_csv(tmp, videos, os.path.join(tmp, f"{split}_split01.csv"))
            print(f"make_video_clips: {split}: {count} videos x {frames} frames")
    print(f"make_video_clips: wrote {out}")
    return out


def main(argv: list[str]) -> None:
    del argv
    if not FLAGS.out:
        raise app.UsageError("--out is required (the output root)")
    write_video_clips(FLAGS.out, FLAGS.train, FLAGS.test, FLAGS.frames, FLAGS.size, FLAGS.seed, FLAGS.force)


if __name__ == "__main__":
    define_flags()
    app.run(main, argv=sys.argv)

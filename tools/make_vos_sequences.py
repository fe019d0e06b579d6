r"""Writes short moving-shape videos with palette-PNG object masks in the DAVIS 2017 layout.

    python -m tools.make_vos_sequences --out data/vos_shapes [--train 24 --val 8 --frames 12 \
        --height 64 --width 96 --max_objects 3 --seed 0]

Each sequence has 1..max_objects shapes (disc, square, ring, bar, triangle) of distinct colours moving
on straight paths that bounce off the frame edges over a noisy textured background; later objects are
drawn over earlier ones, so objects occlude each other. Written (the layout official/data/vos.py and
official/evaluation/davis_jf.py read):
- OUT/JPEGImages/480p/<seq>/%05d.jpg (RGB frames),
- OUT/Annotations/480p/<seq>/%05d.png (palette PNG, pixel = object id, 0 background, DAVIS palette),
- OUT/ImageSets/2017/{train,val}.txt (one sequence per line).
Every object is visible in the first frame (the semi-supervised protocol). Sequence i of a split comes
from its own generator seeded by (seed, split, i); files go to temp names and are renamed when complete.
"""

from __future__ import annotations

import os

import numpy as np
from absl import flags
from PIL import Image

from official.core.errors import BadValueError
from tools import _cli

FLAGS = flags.FLAGS
SHAPES = ("disc", "square", "ring", "bar", "triangle")


def davis_palette() -> list[int]:
    """The DAVIS / PASCAL VOC colour map (bit-interleaved ids), 256 RGB entries."""
    out = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out += [r, g, b]
    return out


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder (created; DAVIS 2017 layout).")
    flags.DEFINE_integer("train", 24, "Training sequences.")
    flags.DEFINE_integer("val", 8, "Validation sequences.")
    flags.DEFINE_integer("frames", 12, "Frames per sequence (at least 3: DAVIS scores frames 1..T-2).")
    flags.DEFINE_integer("height", 64, "Frame height in pixels.")
    flags.DEFINE_integer("width", 96, "Frame width in pixels.")
    flags.DEFINE_integer("max_objects", 3, "Objects per sequence are drawn from 1..max_objects (at most 5).")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.mark_flags_as_required(["out"])


def shape_mask(kind: int, cy: float, cx: float, r: float, h: int, w: int) -> np.ndarray:
    """Boolean (h, w) mask of shape `kind` centred at (cy, cx) with size r."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    dy, dx = y - cy, x - cx
    d = np.hypot(dy, dx)
    return (d < r, (np.abs(dy) < r) & (np.abs(dx) < r), (d < r) & (d > r / 2),
            (np.abs(dy) < r / 3) & (np.abs(dx) < r * 1.6), (dy > -r) & (dy < r) & (np.abs(dx) < (dy + r) / 2))[kind]


def _bounce(p: float, lo: float, hi: float) -> float:
    """Position p reflected into [lo, hi]."""
    span = hi - lo
    q = (p - lo) % (2 * span)
    return lo + (q if q <= span else 2 * span - q)


def make_sequence(rng: np.random.Generator, frames: int, h: int, w: int, max_objects: int):
    """(frames (T, h, w, 3) uint8, id masks (T, h, w) uint8)."""
    n = int(rng.integers(1, max_objects + 1))
    base = rng.uniform(40, 200, 3)
    texture = np.cumsum(np.cumsum(rng.normal(0, 4, (h, w, 3)), 0), 1) / np.sqrt(h * w) * 6
    objects = []
    for k in range(n):
        r = rng.uniform(0.12, 0.22) * min(h, w)
        objects.append((int(rng.integers(len(SHAPES))), r, rng.uniform(r, h - r), rng.uniform(r, w - r),
                        rng.uniform(-0.06, 0.06) * h, rng.uniform(-0.06, 0.06) * w,
                        rng.uniform(0, 255, 3), k + 1))
    rgb = np.zeros((frames, h, w, 3), np.uint8)
    ids = np.zeros((frames, h, w), np.uint8)
    for t in range(frames):
        img = np.clip(base + texture + rng.normal(0, 6, (h, w, 3)), 0, 255)
        for kind, r, y0, x0, vy, vx, colour, obj in objects:
            m = shape_mask(kind, _bounce(y0 + vy * t, r / 2, h - r / 2), _bounce(x0 + vx * t, r / 2, w - r / 2), r, h, w)
            img[m] = colour
            ids[t][m] = obj
        rgb[t] = img.astype(np.uint8)
    for obj in range(1, n + 1):  # semi-supervised protocol: every object visible in frame 0
        if not (ids[0] == obj).any():
            m = shape_mask(0, h / 2, w * obj / (n + 1), 2.0, h, w)
            ids[0][m], rgb[0][m] = obj, objects[obj - 1][6].astype(np.uint8)
    return rgb, ids


def _save(img: Image.Image, path: str) -> None:
    tmp = path + ".tmp"
    img.save(tmp, format="PNG" if path.endswith(".png") else "JPEG", quality=95)
    os.replace(tmp, path)


def write_dataset(out: str, train: int = 24, val: int = 8, frames: int = 12, height: int = 64, width: int = 96,
                  max_objects: int = 3, seed: int = 0, progress: bool = False) -> dict:
    """Writes the files (see the module docstring); returns the sequence names per split."""
    if frames < 3:
        raise BadValueError(f"--frames must be >= 3 (DAVIS scores frames 1..T-2), got {frames}")
    if not 1 <= max_objects <= len(SHAPES):
        raise BadValueError(f"--max_objects must be in 1..{len(SHAPES)}, got {max_objects}")
    if min(train, val) < 1 or min(height, width) < 16:
        raise BadValueError("--train and --val must be >= 1 and --height, --width >= 16")
    palette = davis_palette()
    names = {}
    for split_id, (split, count) in enumerate((("train", train), ("val", val))):
        names[split] = []
        for i in range(count):
            seq = f"{split}_{i:04d}"
            rgb, ids = make_sequence(np.random.default_rng([seed, split_id, i]), frames, height, width, max_objects)
            for sub in ("JPEGImages", "Annotations"):
                os.makedirs(os.path.join(out, sub, "480p", seq), exist_ok=True)
            for t in range(frames):
                _save(Image.fromarray(rgb[t]), os.path.join(out, "JPEGImages", "480p", seq, f"{t:05d}.jpg"))
                mask = Image.fromarray(ids[t], mode="P")
                mask.putpalette(palette)
                _save(mask, os.path.join(out, "Annotations", "480p", seq, f"{t:05d}.png"))
            names[split].append(seq)
            if progress and (i + 1) % 10 == 0:
                print(f"{split}: {i + 1}/{count} sequences", flush=True)
        os.makedirs(os.path.join(out, "ImageSets", "2017"), exist_ok=True)
        list_path = os.path.join(out, "ImageSets", "2017", f"{split}.txt")
        with open(list_path + ".tmp", "w", encoding="utf-8") as f:
            f.write("\n".join(names[split]) + "\n")
        os.replace(list_path + ".tmp", list_path)
    return names


def main(argv: list[str]) -> None:
    del argv
    names = write_dataset(FLAGS.out, FLAGS.train, FLAGS.val, FLAGS.frames, FLAGS.height, FLAGS.width,
                          FLAGS.max_objects, FLAGS.seed, progress=True)
    print(f"wrote {len(names['train'])} train + {len(names['val'])} val sequences of {FLAGS.frames} frames "
          f"({FLAGS.height}x{FLAGS.width}) in the DAVIS 2017 layout to {FLAGS.out}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

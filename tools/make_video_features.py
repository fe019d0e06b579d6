r"""Writes per-second clip features of synthetic moving-shape videos, in ActivityNet / Kinetics formats.

    python -m tools.make_video_features --out data/moving_shapes [--train 64 --val 16 --moments 64 \
        --classes 2 --feature_dim 64 --seed 0]

Each video is a sequence of 16 x 16 grey frames, 4 per second, a faint drifting blob as background;
during an action of class c a bright shape (0 square, 1 disc, 2 bar, 3 ring, ...) moves across the frame
on a random straight path. One feature per second = tanh of a fixed random projection (seeded, the same
for every file) of the second's mean frame and its mean absolute frame difference (appearance + motion),
standing in for the P3D features the paper uses. Written:
- OUT/activity_net.json: ActivityNet v1.3 layout ("database", "subset" training/validation, "duration" in
  seconds, "annotations" [{"segment", "label"}]), 1-2 actions per video covering 15-45% of it each;
- OUT/features/<video_id>.csv: header f0..f{D-1}, one row per second (activitynet.write_feature_csv);
- OUT/moments.csv (Kinetics header label,youtube_id,time_start,time_end,split) and
  OUT/moment_features/<id>.csv: trimmed 8-16 s clips that are the action from start to end.
Video i of a split is drawn from its own generator seeded by (seed, split, i).
"""

from __future__ import annotations

import json
import os

import numpy as np
from absl import flags

from official.core.errors import BadValueError
from tools import _cli

FLAGS = flags.FLAGS
SIZE, FPS = 16, 4
CLASS_NAMES = ("square", "disc", "bar", "ring", "cross", "triangle")


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder (created).")
    flags.DEFINE_integer("train", 64, "Untrimmed training videos.")
    flags.DEFINE_integer("val", 16, "Untrimmed validation videos.")
    flags.DEFINE_integer("moments", 64, "Trimmed moments (Kinetics-style clips).")
    flags.DEFINE_integer("classes", 2, f"Action classes (at most {len(CLASS_NAMES)}).")
    flags.DEFINE_integer("feature_dim", 64, "Feature columns per second.")
    flags.DEFINE_integer("seed", 0, "Random seed (videos and projection).")
    flags.mark_flags_as_required(["out"])


def _shape_mask(kind: int, cy: float, cx: float, r: float) -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    dy, dx = y - cy, x - cx
    d = np.hypot(dy, dx)
    masks = (
        (np.abs(dy) < r) & (np.abs(dx) < r),
        d < r,
        (np.abs(dy) < r / 3) & (np.abs(dx) < r * 1.5),
        (d < r) & (d > r / 2),
        ((np.abs(dy) < r / 3) | (np.abs(dx) < r / 3)) & (d < r * 1.2),
        (dy > -r) & (np.abs(dx) < (dy + r) / 2),
    )
    return masks[kind].astype(np.float32)


def _frames(rng: np.random.Generator, seconds: int, actions: list[tuple[float, float, int]]) -> np.ndarray:
    """(seconds * FPS, SIZE, SIZE) frames: drifting background blob + each action's moving shape."""
    n = seconds * FPS
    t = np.arange(n) / FPS
    by, bx = rng.uniform(0, SIZE, 2)
    vy, vx = rng.normal(0, 0.3, 2)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    frames = np.zeros((n, SIZE, SIZE), np.float32)
    for i in range(n):
        cy, cx = (by + vy * i) % SIZE, (bx + vx * i) % SIZE
        frames[i] = 0.25 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 18.0)
    frames += rng.normal(0, 0.05, frames.shape).astype(np.float32)
    for start, end, kind in actions:
        (y0, x0), (y1, x1) = rng.uniform(3, SIZE - 3, (2, 2))
        r = rng.uniform(2.5, 4.0)
        inside = np.nonzero((t >= start) & (t < end))[0]
        for j, i in enumerate(inside):
            a = j / max(len(inside) - 1, 1)
            frames[i] = np.maximum(frames[i], _shape_mask(kind, y0 + a * (y1 - y0), x0 + a * (x1 - x0), r))
    return frames


def features_of(frames: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """(seconds, D): tanh(projection . [mean frame, mean |frame difference|]) per second."""
    seconds = len(frames) // FPS
    per = frames[: seconds * FPS].reshape(seconds, FPS, SIZE * SIZE)
    motion = np.abs(np.diff(per, axis=1)).mean(axis=1)
    x = np.concatenate([per.mean(axis=1), 4.0 * motion], axis=1)
    return np.tanh(x @ projection).astype(np.float32)


def write_dataset(out: str, train: int = 64, val: int = 16, moments: int = 64, classes: int = 2,
                  feature_dim: int = 64, seed: int = 0) -> dict:
    """Writes the files (see the module docstring); returns counts."""
    from official.data.activitynet import write_feature_csv
    from official.data.video_moments import write_moments_csv

    if not 1 <= classes <= len(CLASS_NAMES):
        raise BadValueError(f"--classes must be in 1..{len(CLASS_NAMES)}, got {classes}")
    if min(train, val, moments) < 1 or feature_dim < 1:
        raise BadValueError("--train, --val, --moments and --feature_dim must be positive")
    names = CLASS_NAMES[:classes]
    projection = np.random.default_rng([seed, 7]).normal(0, 1 / 8, (2 * SIZE * SIZE, feature_dim)).astype(np.float32)
    for sub in ("features", "moment_features"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    database = {}
    for split, count in (("training", train), ("validation", val)):
        for i in range(count):
            rng = np.random.default_rng([seed, 0 if split == "training" else 1, i])
            seconds = int(rng.integers(32, 97))
            actions, anns = [], []
            slots = [(0.0, 0.5), (0.5, 1.0)] if rng.random() < 0.4 else [(0.0, 1.0)]
            for lo, hi in slots:
                span = hi - lo
                length = rng.uniform(0.15, 0.45) / span * span * seconds
                length = min(length, span * seconds * 0.9)
                start = rng.uniform(lo * seconds, hi * seconds - length)
                kind = int(rng.integers(classes))
                actions.append((start, start + length, kind))
                anns.append({"segment": [round(start, 2), round(start + length, 2)], "label": names[kind]})
            vid = f"{split[:5]}_{i:04d}"
            write_feature_csv(os.path.join(out, "features", f"{vid}.csv"), features_of(_frames(rng, seconds, actions), projection))
            database[vid] = {"subset": split, "duration": float(seconds), "url": "", "resolution": f"{SIZE}x{SIZE}",
                             "annotations": anns}
    rows = []
    for i in range(moments):
        rng = np.random.default_rng([seed, 2, i])
        seconds, kind = int(rng.integers(8, 17)), int(rng.integers(classes))
        vid = f"moment_{i:04d}"
        frames = _frames(rng, seconds, [(0.0, float(seconds), kind)])
        write_feature_csv(os.path.join(out, "moment_features", f"{vid}.csv"), features_of(frames, projection))
        rows.append((names[kind], vid))
    write_moments_csv(os.path.join(out, "moments.csv"), rows)
    tmp = os.path.join(out, "activity_net.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"version": "VERSION 1.3", "taxonomy": [], "database": database}, f)
    os.replace(tmp, os.path.join(out, "activity_net.json"))
    return {"training": train, "validation": val, "moments": moments, "classes": list(names)}


def main(argv: list[str]) -> None:
    del argv
    counts = write_dataset(FLAGS.out, FLAGS.train, FLAGS.val, FLAGS.moments, FLAGS.classes, FLAGS.feature_dim, FLAGS.seed)
    print(f"wrote {counts['training']} training + {counts['validation']} validation videos and {counts['moments']} "
          f"moments of classes {', '.join(counts['classes'])} to {FLAGS.out}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

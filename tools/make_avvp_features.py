"""Writes a synthetic audio-visual parsing set in the LLP layout that official/data/llp.py reads.

Each video has 1-2 event classes (of the first --classes LLP classes); each class is audible, visible or
both, over its own random interval of whole seconds. Per-second features carry a fixed per-class
signature only in the seconds where the event is present: audio (10, 128) "VGGish" = N(0, noise) + the
audio signatures; frames (80, 2048) "ResNet-152" at 8 per second and snippets (10, 512) "R(2+1)D" =
U(0, noise) + the visual signatures. Weak labels (the union of classes) go to AVVP_{train,val_pd,test_pd}.csv,
the per-modality events of val and test to AVVP_eval_{audio,visual}.csv, as in the real set:
    python -m tools.make_avvp_features --out=data/llp_synth     # 160 / 32 / 32 videos, 6 classes (~150 MB)
Train with `python -m tools.train --experiment=avvp_tiny_llp_synth` (README "Small run"). The set is
written to a temporary folder and renamed into place with a `.complete` marker; a complete set is kept
unless --force.
"""

from __future__ import annotations

import csv
import os
import sys

import numpy as np
from absl import app, flags

from official.core.file_io import atomic_directory
from official.data.llp import DENSE_CSV, FEATURE_DIRS, LLP_CLASSES, SPLIT_CSV

FLAGS = flags.FLAGS
SEGMENTS, FPS = 10, 8
DIMS = {"audio": 128, "video_2d": 2048, "video_3d": 512}


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output dataset root (CSVs and feats/ are written inside).")
    flags.DEFINE_integer("train", 160, "Training videos (weak labels only).")
    flags.DEFINE_integer("val", 32, "Validation videos (weak + dense labels).")
    flags.DEFINE_integer("test", 32, "Test videos (weak + dense labels).")
    flags.DEFINE_integer("classes", 6, "Event classes used: the first N of the 25 LLP classes.")
    flags.DEFINE_float("noise", 0.5, "Feature noise scale (signatures have unit scale).")
    flags.DEFINE_float("audio_only", 0.25, "Probability that an event class is audible but not visible.")
    flags.DEFINE_float("visual_only", 0.25, "Probability that an event class is visible but not audible (else both).")
    flags.DEFINE_integer("seed", 0, "Random seed of the signatures and the videos.")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def _interval(rng: np.random.Generator) -> tuple[int, int]:
    length = int(rng.integers(2, SEGMENTS + 1))
    onset = int(rng.integers(0, SEGMENTS - length + 1))
    return onset, onset + length


def _video(rng: np.random.Generator, classes: int, mix: tuple[float, float]) -> dict[str, list[tuple[int, int, int]]]:
    """{'audio': [(onset, offset, class)], 'visual': [...]}: 1-2 classes, each audible and/or visible."""
    events: dict[str, list] = {"audio": [], "visual": []}
    for c in rng.choice(classes, size=int(rng.integers(1, 3)), replace=False):
        kind = rng.choice(3, p=(mix[0], mix[1], 1.0 - mix[0] - mix[1]))  # audio only, visual only, both
        for modality, present in (("audio", kind != 1), ("visual", kind != 0)):
            if present:
                events[modality].append((*_interval(rng), int(c)))
    return events


def _features(rng, events, signatures, noise: float) -> dict[str, np.ndarray]:
    audio = rng.normal(0, noise, (SEGMENTS, DIMS["audio"]))
    v2d = rng.uniform(0, noise, (SEGMENTS * FPS, DIMS["video_2d"]))
    v3d = rng.uniform(0, noise, (SEGMENTS, DIMS["video_3d"]))
    for onset, offset, c in events["audio"]:
        audio[onset:offset] += signatures["audio"][c]
    for onset, offset, c in events["visual"]:
        v2d[onset * FPS:offset * FPS] += signatures["video_2d"][c]
        v3d[onset:offset] += signatures["video_3d"][c]
    return {"audio": audio, "video_2d": v2d, "video_3d": v3d}


def write_avvp_features(out: str, train: int = 160, val: int = 32, test: int = 32, classes: int = 6,
                        noise: float = 0.5, seed: int = 0, force: bool = False, audio_only: float = 0.25,
                        visual_only: float = 0.25) -> dict:
    """Writes the set atomically; returns {split: videos} ({} when a complete set is kept)."""
    if not 1 <= classes <= len(LLP_CLASSES):
        raise ValueError(f"--classes must be in 1..{len(LLP_CLASSES)}, got {classes}")
    if min(train, val, test) < 1:
        raise ValueError(f"--train, --val and --test must be >= 1, got {train}, {val}, {test}")
    if min(audio_only, visual_only) < 0 or audio_only + visual_only > 1:
        raise ValueError(f"--audio_only and --visual_only must be >= 0 with a sum <= 1, got {audio_only}, {visual_only}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"LLP-format set already at {out}; --force rewrites")
        return {}
    rng = np.random.default_rng(seed)
    signatures = {"audio": rng.normal(0, 1, (classes, DIMS["audio"])),
                  "video_2d": np.abs(rng.normal(0, 1, (classes, DIMS["video_2d"]))),
                  "video_3d": np.abs(rng.normal(0, 1, (classes, DIMS["video_3d"])))}
    marker = f"make_avvp_features train={train} val={val} test={test} classes={classes} noise={noise} seed={seed} " \
             f"audio_only={audio_only} visual_only={visual_only}"
    dense: dict[str, list] = {"audio": [], "visual": []}
    with atomic_directory(out, marker) as tmp:
        for folder in FEATURE_DIRS.values():
            os.makedirs(os.path.join(tmp, folder))
        index = 0
        for split, count in (("train", train), ("val", val), ("test", test)):
            weak = []
            for _ in range(count):
                vid = f"syn{index:08d}"  # 11 characters, as a YouTube id
                filename = f"{vid}_{10 * (index % 7)}_{10 * (index % 7) + 10}"
                index += 1
                events = _video(rng, classes, (audio_only, visual_only))
                for modality, array in _features(rng, events, signatures, noise).items():
                    np.save(os.path.join(tmp, FEATURE_DIRS[modality], vid + ".npy"), array.astype(np.float32))
                names = sorted({c for m in events.values() for _, _, c in m})
                weak.append((filename, ",".join(LLP_CLASSES[c] for c in names)))
                if split != "train":
                    for modality, rows in events.items():
                        dense[modality] += [(filename, on, off, LLP_CLASSES[c]) for on, off, c in rows]
            _write_csv(os.path.join(tmp, SPLIT_CSV[split]), ("filename", "event_labels"), weak)
        for modality, rows in dense.items():
            _write_csv(os.path.join(tmp, DENSE_CSV[modality]), ("filename", "onset", "offset", "event_labels"), rows)
    return {"train": train, "val": val, "test": test}


def _write_csv(path: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(argv: list[str]) -> None:
    del argv
    if not FLAGS.out:
        sys.exit("make_avvp_features: --out is required")
    try:
        counts = write_avvp_features(FLAGS.out, FLAGS.train, FLAGS.val, FLAGS.test, FLAGS.classes, FLAGS.noise,
                                     FLAGS.seed, FLAGS.force, FLAGS.audio_only, FLAGS.visual_only)
    except (ValueError, OSError) as err:
        sys.exit(f"make_avvp_features: {err}")
    if counts:
        print(f"wrote {counts['train']} / {counts['val']} / {counts['test']} train / val / test videos "
              f"({FLAGS.classes} classes) in the LLP layout to {FLAGS.out}")


if __name__ == "__main__":
    define_flags()
    app.run(main)

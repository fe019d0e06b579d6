"""Writes a small synthetic person re-ID dataset in the Market-1501 layout, for CPU runs and tests.

Each identity is a stick "pedestrian" with its own colours (hair, shirt, trousers, shoes) and an optional
bag, drawn at a random offset and scale on a cluttered background; each camera tints and brightens the
image differently, and every image has its own noise. Identities of the training set and of the test set
(query/gallery) are disjoint, as in Market-1501. Names follow Market: PPPP_cCsS_FFFFFF_NN.jpg:
    OUT/bounding_box_train/  train_ids x images_per_id, cameras 1..cameras
    OUT/query/               one image per test identity and camera
    OUT/bounding_box_test/   gallery_per_id images per test identity and camera, plus distractors
                             (pid 0000) and junk (pid -1) images, which the protocol never matches
    python -m tools.make_reid --out data/reid_synth
"""

from __future__ import annotations

import os
import shutil

import numpy as np
from absl import flags
from PIL import Image

from tools import _cli

FLAGS = flags.FLAGS
HEIGHT, WIDTH = 128, 64  # Market-1501 crops


def define_flags() -> None:
    flags.DEFINE_string("out", "data/reid_synth", "Output folder (gets the three Market-1501 split folders).")
    flags.DEFINE_integer("train_ids", 16, "Training identities.")
    flags.DEFINE_integer("test_ids", 12, "Test identities (query + gallery).")
    flags.DEFINE_integer("images_per_id", 8, "Training images per identity.")
    flags.DEFINE_integer("cameras", 3, "Cameras.")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.DEFINE_bool("force", False, "Rewrite the dataset even if OUT already holds one.")


def identity_look(rng: np.random.Generator) -> dict:
    """Colours and proportions of one person."""
    return {
        "hair": rng.uniform(0, 120, 3), "skin": rng.uniform(150, 230, 3), "shirt": rng.uniform(0, 255, 3),
        "trousers": rng.uniform(0, 255, 3), "shoes": rng.uniform(0, 100, 3),
        "bag": rng.uniform(0, 255, 3) if rng.random() < 0.5 else None, "torso": rng.uniform(0.28, 0.38),
    }


def render(look: dict, camera: int, rng: np.random.Generator) -> np.ndarray:
    """One (128, 64, 3) uint8 image of `look` seen by `camera`."""
    img = rng.uniform(60, 200, (HEIGHT // 8, WIDTH // 8, 3)).repeat(8, 0).repeat(8, 1)  # blocky clutter
    scale = rng.uniform(0.85, 1.0)
    top = int(rng.integers(0, 8))
    left = int(WIDTH / 2 + rng.integers(-4, 5))
    body = HEIGHT * scale
    half = int(WIDTH * 0.22 * scale)

    def band(y0: float, y1: float, colour: np.ndarray, half_width: int) -> None:
        r0, r1 = int(top + y0 * body), int(top + y1 * body)
        img[max(r0, 0):min(r1, HEIGHT), max(left - half_width, 0):min(left + half_width, WIDTH)] = colour

    t = look["torso"]
    band(0.02, 0.08, look["hair"], half // 2 + 2)
    band(0.08, 0.16, look["skin"], half // 2 + 1)
    band(0.16, 0.16 + t, look["shirt"], half)
    band(0.16 + t, 0.92, look["trousers"], half - 2)
    band(0.92, 0.99, look["shoes"], half - 1)
    if look["bag"] is not None:
        r0 = int(top + 0.3 * body)
        img[r0:r0 + 16, min(left + half, WIDTH - 6):min(left + half + 6, WIDTH)] = look["bag"]
    tint = np.array([[1.0, 1.0, 1.0], [1.1, 0.95, 0.9], [0.9, 0.95, 1.1], [1.05, 1.05, 0.9],
                     [0.95, 1.1, 0.95], [1.0, 0.9, 1.05]])[(camera - 1) % 6]
    img = img * tint * rng.uniform(0.85, 1.15) + rng.normal(0, 8, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _save(folder: str, pid: int, camera: int, frame: int, image: np.ndarray) -> None:
    name = f"{pid:04d}_c{camera}s1_{frame:06d}_01.jpg" if pid >= 0 else f"-1_c{camera}s1_{frame:06d}_01.jpg"
    Image.fromarray(image).save(os.path.join(folder, name), quality=95)


def write_reid(out: str, train_ids: int = 16, test_ids: int = 12, images_per_id: int = 8, cameras: int = 3,
               seed: int = 0, force: bool = False, gallery_per_id: int = 2, distractors: int = 6,
               junk: int = 4) -> dict[str, int]:
    """Writes the dataset atomically (temp folder, then rename); returns the image count per folder."""
    marker = os.path.join(out, ".complete")
    folders = ("bounding_box_train", "query", "bounding_box_test")
    if os.path.exists(marker) and not force:
        counts = {f: len(os.listdir(os.path.join(out, f))) for f in folders}
        print(f"re-ID set already at {out} ({counts}); --force rewrites")
        return counts
    rng = np.random.default_rng(seed)
    tmp = f"{out.rstrip('/')}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    for f in folders:
        os.makedirs(os.path.join(tmp, f))
    frame = 0
    for pid in range(1, train_ids + 1):
        look = identity_look(rng)
        for i in range(images_per_id):
            frame += 1
            cam = 1 + i % cameras
            _save(os.path.join(tmp, folders[0]), pid, cam, frame, render(look, cam, rng))
    for pid in range(train_ids + 1, train_ids + test_ids + 1):
        look = identity_look(rng)
        for cam in range(1, cameras + 1):
            frame += 1
            _save(os.path.join(tmp, folders[1]), pid, cam, frame, render(look, cam, rng))
            for _ in range(gallery_per_id):
                frame += 1
                _save(os.path.join(tmp, folders[2]), pid, cam, frame, render(look, cam, rng))
    for pid, count in ((0, distractors), (-1, junk)):
        for _ in range(count):
            frame += 1
            cam = int(rng.integers(1, cameras + 1))
            _save(os.path.join(tmp, folders[2]), pid, cam, frame, render(identity_look(rng), cam, rng))
    with open(os.path.join(tmp, ".complete"), "w") as f:
        f.write(f"synthetic re-ID, seed {seed}\n")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    os.replace(tmp, out)
    counts = {f: len(os.listdir(os.path.join(out, f))) for f in folders}
    print(f"wrote a Market-1501-layout set to {out}: {counts}")
    return counts


def main(argv: list[str]) -> int:
    del argv
    write_reid(FLAGS.out, FLAGS.train_ids, FLAGS.test_ids, FLAGS.images_per_id, FLAGS.cameras, FLAGS.seed, FLAGS.force)
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

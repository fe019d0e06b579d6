r"""Writes HPatches-layout sequences from scikit-image's bundled photographs (S2DNet's CPU small run).

    python -m tools.make_hpatches_synth --out data/hpatches_synth [--height 96 --width 128 --crops 6 --seed 0]

OUT/train and OUT/test are each an HPatches root (official/data/hpatches.py reads them): per sequence
`1.ppm ... 6.ppm` (binary PPM) and `H_1_2 ... H_1_6` (3 lines of 3 numbers, OpenCV pixel coordinates).
Image 1 is a random crop of a photograph resized to height x width; image k of a viewpoint sequence `v_*`
renders the photograph through a random homography H_1_k (corner shifts of up to 6 % + 3 % k of the size,
rotation up to 5 k degrees, scale 0.8-1.25) so it holds content everywhere, as HPatches' separate photos do;
an illumination sequence `i_*` keeps H = identity and changes gamma, per-channel gain, offset and noise.
Train and test use different photographs. Sequence i comes from its own generator seeded by (seed, split, i);
files go to temp names and are renamed when complete.
"""

from __future__ import annotations

import os

import numpy as np
from absl import flags

from official.core.errors import BadValueError
from official.data.hpatches import scale_matrix, write_homography, write_ppm
from tools import _cli

FLAGS = flags.FLAGS
TRAIN_IMAGES = ("astronaut", "coffee", "rocket", "immunohistochemistry", "camera", "brick", "gravel", "clock",
                "moon", "page")
TEST_IMAGES = ("chelsea", "coins", "grass", "hubble_deep_field")


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder (OUT/train and OUT/test, HPatches layout).")
    flags.DEFINE_integer("height", 96, "Image height (a multiple of 16).")
    flags.DEFINE_integer("width", 128, "Image width (a multiple of 16).")
    flags.DEFINE_integer("crops", 6, "Sequences per photograph and split (alternately viewpoint and illumination).")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.mark_flags_as_required(["out"])


def photograph(name: str) -> np.ndarray:
    """(H, W, 3) float in [0, 1] of skimage.data.<name> (grey images replicated)."""
    import skimage.data

    image = np.asarray(getattr(skimage.data, name)(), np.float64)
    image = image / 255.0 if image.max() > 1.0 else image
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]


def random_homography(rng: np.random.Generator, k: int, height: int, width: int) -> np.ndarray:
    """H (image 1 -> image k, OpenCV pixels): rotation + scale about the centre, then corner perturbation."""
    from skimage.transform import ProjectiveTransform

    angle = np.deg2rad(rng.uniform(-5.0, 5.0) * (k - 1))
    scale = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    c = np.array([(width - 1) / 2, (height - 1) / 2])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) * scale
    similarity = np.eye(3)
    similarity[:2, :2], similarity[:2, 2] = rot, c - rot @ c
    corners = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float64)
    moved = corners + rng.uniform(-1, 1, (4, 2)) * (0.06 + 0.03 * k) * np.array([width, height])
    return ProjectiveTransform.from_estimate(corners, moved).params @ similarity


def relight(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    gamma = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    out = image ** gamma * rng.uniform(0.6, 1.4, 3) + rng.uniform(-0.1, 0.1)
    return np.clip(out + rng.normal(0, 0.02, image.shape), 0, 1)


def render(big: np.ndarray, crop: np.ndarray, h: np.ndarray, height: int, width: int) -> np.ndarray:
    """Image k: pixel q of the output samples the photograph at crop @ H^-1 q (edge-replicated outside)."""
    from skimage.transform import ProjectiveTransform, warp

    inverse = ProjectiveTransform(crop @ np.linalg.inv(h))
    return warp(big, inverse_map=inverse, output_shape=(height, width), order=1, mode="edge")


def write_sequence(folder: str, big: np.ndarray, rng: np.random.Generator, viewpoint: bool, height: int, width: int) -> None:
    bh, bw = big.shape[:2]
    frac = rng.uniform(0.45, 0.85)
    ch, cw = min(bh, frac * bh), min(bw, frac * bh * width / height)
    y0, x0 = rng.uniform(0, bh - ch), rng.uniform(0, bw - cw)
    crop = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0], [0.0, 0.0, 1.0]]) @ scale_matrix(cw / width, ch / height)
    tmp = f"{folder}.tmp-{os.getpid()}"
    os.makedirs(tmp, exist_ok=True)
    write_ppm(os.path.join(tmp, "1.ppm"), np.round(render(big, crop, np.eye(3), height, width) * 255).astype(np.uint8))
    for k in range(2, 7):
        h = random_homography(rng, k, height, width) if viewpoint else np.eye(3)
        image = render(big, crop, h, height, width)
        if not viewpoint:
            image = relight(image, rng)
        write_ppm(os.path.join(tmp, f"{k}.ppm"), np.round(image * 255).astype(np.uint8))
        write_homography(os.path.join(tmp, f"H_1_{k}"), h)
    os.replace(tmp, folder)


def write_hpatches_synth(out: str, height: int = 96, width: int = 128, crops: int = 6, seed: int = 0,
                         splits: dict[str, tuple[str, ...]] | None = None) -> dict[str, int]:
    """Writes OUT/<split>/<i|v>_<photo>_<n>/...; returns {split: sequences}."""
    if height % 16 or width % 16 or height < 32 or width < 32:
        raise BadValueError(f"--height/--width: {height}x{width} must be multiples of 16, at least 32")
    splits = splits or {"train": TRAIN_IMAGES, "test": TEST_IMAGES}
    counts = {}
    for s, (split, names) in enumerate(splits.items()):
        root = os.path.join(out, split)
        os.makedirs(root, exist_ok=True)
        n = 0
        for name in names:
            big = photograph(name)
            for c in range(crops):
                viewpoint = c % 2 == 0
                folder = os.path.join(root, f"{'v' if viewpoint else 'i'}_{name}_{c}")
                if not os.path.isdir(folder):
                    write_sequence(folder, big, np.random.default_rng([seed, s, n]), viewpoint, height, width)
                n += 1
        counts[split] = n
    return counts


def main(argv: list[str]) -> None:
    del argv
    counts = write_hpatches_synth(FLAGS.out, FLAGS.height, FLAGS.width, FLAGS.crops, FLAGS.seed)
    for split, n in counts.items():
        print(f"{split}: {n} sequences ({n * 5} pairs) in {os.path.join(FLAGS.out, split)}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

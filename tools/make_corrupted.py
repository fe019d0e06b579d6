"""Writes an ImageNet-C-style tree from an image-folder split with the `imagecorruptions` package.

    python -m tools.make_corrupted --src data/digits/val --out data/digits_c
    python -m tools.make_corrupted --src data/digits/val --out /tmp/c --corruptions fog,glass_blur --severities 1,3

SRC/<class>/<image> (PNG/JPEG/..., the zoo's imagefolder layout) becomes OUT/<corruption>/<severity>/
<class>/<stem>.JPEG, ImageNet-C's layout and format (JPEG quality 85, as Hendrycks' generation scripts
save), readable by official.data.imagenet_c and tools.corruption_eval. Each image gets
`imagecorruptions.corrupt(image, corruption_name=c, severity=s)` with NumPy's global generator (which
imagecorruptions draws from) seeded from --seed and the image's (corruption, severity, path), so a rerun
writes the same pixels.

Image size: imagecorruptions (the imagecorruptions-imaug 1.1.5 fork) accepts any image whose sides are
at least 32 px and returns the input size; every one of its 19 corruptions was checked at 32x32 and
32x48, and every one raises below 32 px. The zoo's 32x32 digits therefore need no upscaling. A smaller
source image is an error naming the file; --resize N resizes every image to NxN (bilinear) first. The
corruptions keep their ImageNet parameters, which are tuned for 224 px: on 32 px images a severity is
stronger (e.g. a blur radius is a larger fraction of the image) than on ImageNet.

glass_blur is the slow one (a loop over pixels): its first call here takes ~5 s (compilation), then
0.04 s per 32 px image (40 digits in 0.8 s); it can be ~2 s per 64 px image where
that loop is not compiled. The tree is written under a temp name and renamed when complete.
"""

from __future__ import annotations

import os
import shutil
import time
import warnings
import zlib

import numpy as np
from absl import flags
from PIL import Image

from official.core.errors import BadValueError, PathNotFoundError
from tools import _cli

FLAGS = flags.FLAGS
MIN_SIZE = 32  # imagecorruptions' smallest accepted side
JPEG_QUALITY = 85
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def define_flags() -> None:
    """Registered only when run as a program, so tests can import write_corrupted beside other tools."""
    flags.DEFINE_string("src", None, "Image-folder split to corrupt: SRC/<class>/<image>.")
    flags.DEFINE_string("out", None, "Output root: OUT/<corruption>/<severity>/<class>/<stem>.JPEG.")
    flags.DEFINE_list(
        "corruptions", [], "Comma-separated corruption names (default: the 15 ImageNet-C ones; "
        "imagecorruptions' extras speckle_noise, gaussian_blur, spatter, saturate are accepted too).",
    )
    flags.DEFINE_list("severities", ["1", "2", "3", "4", "5"], "Comma-separated severities, each 1..5.")
    flags.DEFINE_integer("max_per_class", 0, "Corrupt at most this many images per class (first in sorted order; 0 = all).")
    flags.DEFINE_integer("seed", 0, "Seed of the corruption noise (per image, mixed with corruption, severity and path).")
    flags.DEFINE_integer("resize", 0, f"Resize every image to NxN before corrupting (0 = keep; needed below {MIN_SIZE} px).")
    flags.DEFINE_bool("force", False, "Rewrite OUT even if it already holds a complete tree.")
    flags.mark_flags_as_required(["src", "out"])


def source_images(src: str, max_per_class: int = 0) -> list[tuple[str, str]]:
    """[(class name, image path)] of SRC/<class>/<image>, sorted; at most max_per_class per class."""
    if not os.path.isdir(src):
        raise PathNotFoundError(f"{src}: image folder does not exist")
    found = []
    for name in sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d))):
        files = sorted(f for f in os.listdir(os.path.join(src, name)) if f.lower().endswith(IMAGE_EXTENSIONS))
        if max_per_class > 0:
            files = files[:max_per_class]
        found.extend((name, os.path.join(src, name, f)) for f in files)
    if not found:
        raise PathNotFoundError(f"{src}: no images in class folders (expected SRC/<class>/<image>)")
    return found


def _check_names(corruptions: list[str], severities: list[int]) -> None:
    from imagecorruptions import get_corruption_names

    known = get_corruption_names("all")
    unknown = [c for c in corruptions if c not in known]
    if unknown:
        raise BadValueError(f"--corruptions: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    bad = [s for s in severities if not 1 <= s <= 5]
    if bad:
        raise BadValueError(f"--severities: each must be 1..5, got {bad}")


def _load(path: str, resize: int) -> np.ndarray:
    image = Image.open(path).convert("RGB")
    if resize:
        image = image.resize((resize, resize), Image.BILINEAR)
    if min(image.size) < MIN_SIZE:
        raise BadValueError(
            f"{path}: {image.size[0]}x{image.size[1]} px; imagecorruptions needs sides of at least {MIN_SIZE} px "
            f"(pass --resize={MIN_SIZE} or more)"
        )
    return np.asarray(image)


def _seed(seed: int, corruption: str, severity: int, relpath: str) -> int:
    return (seed * 1_000_003 + zlib.crc32(f"{corruption}/{severity}/{relpath}".encode())) % 2**32


def write_corrupted(
    src: str,
    out: str,
    corruptions: list[str] | None = None,
    severities: list[int] | tuple[int, ...] = (1, 2, 3, 4, 5),
    max_per_class: int = 0,
    seed: int = 0,
    resize: int = 0,
    force: bool = False,
) -> dict[str, int]:
    """Writes the tree (temp folder, then rename); returns {"<corruption>/<severity>": images written}."""
    from imagecorruptions import corrupt, get_corruption_names

    corruptions = list(corruptions or get_corruption_names())
    severities = [int(s) for s in severities]
    _check_names(corruptions, severities)
    marker = os.path.join(out, ".complete")
    if os.path.exists(marker) and not force:
        print(f"corrupted tree already at {out}; --force rewrites")
        return {}
    images = source_images(src, max_per_class)
    pixels = {path: _load(path, resize) for _, path in images}
    tmp = f"{out.rstrip('/')}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    counts: dict[str, int] = {}
    total = len(corruptions) * len(severities)
    for k, (corruption, severity) in enumerate((c, s) for c in corruptions for s in severities):
        start = time.time()
        for name, path in images:
            folder = os.path.join(tmp, corruption, str(severity), name)
            os.makedirs(folder, exist_ok=True)
            np.random.seed(_seed(seed, corruption, severity, os.path.relpath(path, src)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scikit-image / scipy deprecation notices inside the package
                result = corrupt(pixels[path], corruption_name=corruption, severity=severity)
            result = np.uint8(np.clip(np.asarray(result, np.float64), 0, 255))
            stem = os.path.splitext(os.path.basename(path))[0]
            Image.fromarray(result).save(os.path.join(folder, f"{stem}.JPEG"), quality=JPEG_QUALITY, optimize=True)
        counts[f"{corruption}/{severity}"] = len(images)
        print(f"[{k + 1}/{total}] {corruption} severity {severity}: {len(images)} images in {time.time() - start:.1f} s",
              flush=True)
    with open(os.path.join(tmp, ".complete"), "w") as f:
        f.write(f"imagecorruptions of {src}: {','.join(corruptions)} x severities {severities}, seed {seed}\n")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    os.replace(tmp, out)
    print(f"wrote {sum(counts.values())} images ({len(corruptions)} corruptions x {len(severities)} severities x "
          f"{len(images)} source images) to {out}")
    return counts


def main(argv: list[str]) -> int:
    del argv
    try:
        severities = [int(s) for s in FLAGS.severities]
    except ValueError as err:
        raise BadValueError(f"--severities: expected integers 1..5, got {','.join(FLAGS.severities)}") from err
    write_corrupted(FLAGS.src, FLAGS.out, FLAGS.corruptions, severities, FLAGS.max_per_class, FLAGS.seed,
                    FLAGS.resize, FLAGS.force)
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

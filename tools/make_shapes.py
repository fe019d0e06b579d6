"""Writes "shapes", a small synthetic detection set in real COCO format, for demos and tests.

    python -m tools.make_shapes --out data/shapes --train 200 --val 50 --size 128 --seed 0

Layout: OUT/{train,val}/<12-digit image id>.jpg and OUT/annotations/instances_{train,val}.json.
Three classes with NON-contiguous category ids (circle=1, square=3, triangle=7) so that readers must
remap them. Every object is a polygon (its `segmentation`); the drawn pixels are exactly that
polygon rasterised by pycocotools, and `bbox` / `area` are the extent / pixel count of those
pixels, so boxes, masks and pixels agree exactly. Objects never share pixels but their boxes may
overlap; some images hold a crowd (a packed cluster of small shapes, one iscrowd=1 annotation with an
uncompressed RLE), a few hold nothing. Each image is drawn from its own generator seeded by
(seed, split, index): the output is identical for a seed and image i does not depend on the count.
"""

from __future__ import annotations

import io
import json
import math
import os
from typing import Any

import numpy as np
from absl import flags
from PIL import Image
from pycocotools import mask as mask_utils

from official.core.errors import BadValueError
from tools import _cli

CATEGORIES = (
    {"id": 1, "name": "circle", "supercategory": "shape"},
    {"id": 3, "name": "square", "supercategory": "shape"},
    {"id": 7, "name": "triangle", "supercategory": "shape"},
)
SPLITS = ("train", "val")
_IMAGE_ID_BASE = {"train": 1, "val": 1_000_001}  # disjoint ids across splits
_ANN_ID_BASE = {"train": 1, "val": 10_000_001}
EMPTY_FRACTION = 0.04  # images with no object at all
CROWD_FRACTION = 0.12  # images with one crowd region
MIN_OBJECT, MAX_OBJECT = 0.125, 0.47  # object size range as a fraction of the image size (16-60 at 128)


def _polygon(kind: str, cx: float, cy: float, d: float, rng: np.random.Generator) -> list[float]:
    """Flat [x0, y0, x1, y1, ...] outline of a shape of extent ~d centred at (cx, cy)."""
    if kind == "circle":
        angles = np.linspace(0.0, 2 * math.pi, 32, endpoint=False)
        pts = np.stack([cx + 0.5 * d * np.cos(angles), cy + 0.5 * d * np.sin(angles)], axis=1)
    elif kind == "square":
        x0, y0 = round(cx - d / 2), round(cy - d / 2)
        side = round(d)
        pts = np.array([[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side]], float)
    else:  # triangle, pointing up or down
        h = d * math.sqrt(3) / 2
        sign = 1.0 if rng.random() < 0.5 else -1.0
        pts = np.array(
            [[cx, cy - sign * h / 2], [cx - d / 2, cy + sign * h / 2], [cx + d / 2, cy + sign * h / 2]]
        )
    return [round(float(v), 2) for v in pts.reshape(-1)]


def _rasterise(polygons: list[list[float]], size: int) -> tuple[np.ndarray, dict[str, Any]]:
    rle = mask_utils.merge(mask_utils.frPyObjects(polygons, size, size))
    return mask_utils.decode(rle).astype(bool), rle


def _dilate(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def _uncompressed_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO crowd format: run lengths of the column-major mask, starting with a run of zeros."""
    flat = mask.T.reshape(-1).astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat[0] == 1:
        runs = [0] + runs
    return {"counts": [int(r) for r in runs], "size": [int(mask.shape[0]), int(mask.shape[1])]}


def _background(size: int, rng: np.random.Generator) -> np.ndarray:
    """Textured background: smooth colour field + oriented stripes + pixel noise (float32 0-255)."""
    grid = rng.uniform(30, 225, size=(4, 4, 3)).astype(np.uint8)
    smooth = np.asarray(Image.fromarray(grid).resize((size, size), Image.BILINEAR), np.float32)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    theta = rng.uniform(0, math.pi)
    period = rng.uniform(6, 20) * size / 128
    stripes = 15.0 * np.sin(2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period)
    noise = rng.normal(0, 5, size=(size, size, 3))
    return smooth + stripes[..., None] + noise


def _pick_colour(under: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A colour far (L1 >= 150) from the mean background under the object, so it stays visible."""
    mean = under.reshape(-1, 3).mean(axis=0)
    colour = rng.integers(0, 256, size=3)
    for _ in range(30):
        if np.abs(colour - mean).sum() >= 150:
            break
        colour = rng.integers(0, 256, size=3)
    else:
        colour = np.where(mean > 127, 0, 255)
    return colour.astype(np.float32)


def _draw_image(
    size: int, rng: np.random.Generator, max_objects: int = 4, crowd_fraction: float = CROWD_FRACTION,
    min_object: float = MIN_OBJECT,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """One image (uint8 [size, size, 3]) and its objects (polygons, rle, class, crowd flag)."""
    canvas = _background(size, rng)
    occupied = np.zeros((size, size), bool)
    objects: list[dict[str, Any]] = []
    count = 0 if rng.random() < EMPTY_FRACTION else int(rng.integers(1, max_objects + 1))
    for _ in range(count):
        for _attempt in range(40):
            kind = int(rng.integers(0, 3))
            d = rng.uniform(min_object, MAX_OBJECT) * size
            if objects and rng.random() < 0.5:  # next to an earlier object so that boxes overlap
                other = objects[int(rng.integers(0, len(objects)))]["bbox"]
                cx = other[0] + other[2] * rng.choice([0.0, 1.0]) + rng.uniform(-0.2, 0.2) * d
                cy = other[1] + other[3] * rng.choice([0.0, 1.0]) + rng.uniform(-0.2, 0.2) * d
            else:
                cx, cy = rng.uniform(d / 2, size - d / 2, size=2)
            poly = _polygon(CATEGORIES[kind]["name"], cx, cy, d, rng)
            if min(poly) < 0 or max(poly) > size:
                continue
            mask, rle = _rasterise([poly], size)
            if mask.sum() < 16 or (mask & occupied).any():
                continue
            occupied |= _dilate(mask)
            objects.append(
                {
                    "kind": kind,
                    "polygons": [poly],
                    "mask": mask,
                    "rle": rle,
                    "crowd": False,
                    "bbox": mask_utils.toBbox(rle).tolist(),
                }
            )
            break
    if count and rng.random() < crowd_fraction:
        _add_crowd(size, rng, occupied, objects)
    for obj in objects:
        obj["colour"] = _pick_colour(canvas[obj["mask"]], rng)
        canvas[obj["mask"]] = obj["colour"] + rng.normal(0, 4, size=(int(obj["mask"].sum()), 3))
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8), objects


def _add_crowd(size: int, rng: np.random.Generator, occupied: np.ndarray, objects: list[dict]) -> None:
    """A packed cluster of 6-10 small shapes of one class, annotated as one iscrowd=1 region."""
    kind = int(rng.integers(0, 3))
    region = 0.3 * size
    for _attempt in range(20):
        x0, y0 = rng.uniform(0, size - region, size=2)
        polys = []
        for _ in range(int(rng.integers(6, 11))):
            d = rng.uniform(0.05, 0.08) * size
            cx, cy = x0 + rng.uniform(d / 2, region - d / 2, size=2)
            polys.append(_polygon(CATEGORIES[kind]["name"], cx, cy, d, rng))
        mask, _ = _rasterise(polys, size)
        if mask.sum() >= 16 and not (mask & occupied).any():
            occupied |= _dilate(mask)
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            objects.append(
                {
                    "kind": kind,
                    "polygons": None,
                    "mask": mask,
                    "rle": rle,
                    "crowd": True,
                    "bbox": mask_utils.toBbox(rle).tolist(),
                }
            )
            return


def _atomic_write(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_split(
    out_dir: str, split: str, num_images: int, size: int, seed: int, image_format: str = "jpg",
    max_objects: int = 4, crowd_fraction: float = CROWD_FRACTION, min_object: float = MIN_OBJECT,
) -> str:
    """Writes OUT/<split>/ images and OUT/annotations/instances_<split>.json; returns the JSON path.

    max_objects / crowd_fraction / min_object make an easier set (fewer, larger objects, no crowds)
    for short CPU training runs; the defaults write the standard split."""
    image_dir = os.path.join(out_dir, split)
    os.makedirs(image_dir, exist_ok=True)
    os.makedirs(os.path.join(out_dir, "annotations"), exist_ok=True)
    images, annotations = [], []
    ann_id = _ANN_ID_BASE[split]
    for i in range(num_images):
        rng = np.random.default_rng([seed, SPLITS.index(split), i])
        pixels, objects = _draw_image(size, rng, max_objects, crowd_fraction, min_object)
        image_id = _IMAGE_ID_BASE[split] + i
        file_name = f"{image_id:012d}.{image_format}"
        buf = io.BytesIO()
        if image_format == "jpg":
            Image.fromarray(pixels).save(buf, format="JPEG", quality=95)
        else:
            Image.fromarray(pixels).save(buf, format="PNG")
        _atomic_write(os.path.join(image_dir, file_name), buf.getvalue())
        images.append({"id": image_id, "file_name": file_name, "width": size, "height": size})
        for obj in objects:
            if obj["crowd"]:
                segmentation: Any = _uncompressed_rle(obj["mask"])
            else:
                segmentation = obj["polygons"]
            annotations.append(
                {
                    "id": ann_id,
                    "image_id": image_id,
                    "category_id": CATEGORIES[obj["kind"]]["id"],
                    "bbox": [float(v) for v in obj["bbox"]],
                    "area": float(mask_utils.area(obj["rle"])),
                    "iscrowd": int(obj["crowd"]),
                    "segmentation": segmentation,
                    "shape_color": [int(c) for c in obj["colour"]],  # extra field, for tests
                }
            )
            ann_id += 1
    coco = {
        "info": {
            "description": f"synthetic shapes, split {split}, seed {seed}, size {size}",
            "version": "1.0",
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [dict(c) for c in CATEGORIES],
    }
    json_path = os.path.join(out_dir, "annotations", f"instances_{split}.json")
    _atomic_write(json_path, json.dumps(coco).encode("utf-8"))
    return json_path


def write_shapes(
    out_dir: str, num_train: int, num_val: int, size: int = 128, seed: int = 0, image_format: str = "jpg",
    max_objects: int = 4, crowd_fraction: float = CROWD_FRACTION, min_object: float = MIN_OBJECT,
) -> dict[str, tuple[str, str]]:
    """Writes both splits; returns {split: (instances JSON path, image folder)} for non-empty splits."""
    if size < 32:
        raise BadValueError(f"size: shapes needs images of at least 32 px, got {size}")
    if not 1 <= max_objects <= 8 or not 0.0 <= crowd_fraction <= 1.0 or not 0.05 <= min_object <= MAX_OBJECT:
        raise BadValueError(
            f"max_objects 1-8, crowd_fraction 0-1, min_object 0.05-{MAX_OBJECT}: got {max_objects}, "
            f"{crowd_fraction}, {min_object}"
        )
    if image_format not in ("jpg", "png"):
        raise BadValueError(f"image_format: expected jpg or png, got {image_format!r}")
    out = {}
    for split, count in zip(SPLITS, (num_train, num_val), strict=True):
        if count > 0:
            json_path = write_split(
                out_dir, split, count, size, seed, image_format, max_objects, crowd_fraction, min_object
            )
            out[split] = (json_path, os.path.join(out_dir, split))
    return out


FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the CLI flags (only when run as a program, so importing this module for its
    functions never clashes with other tools' flags of the same name)."""
    flags.DEFINE_string("out", "data/shapes", "Output folder (train/, val/, annotations/ are created in it).")
    flags.DEFINE_integer("train", 200, "Number of training images.")
    flags.DEFINE_integer("val", 50, "Number of validation images.")
    flags.DEFINE_integer("size", 128, "Image side in pixels (objects are 12.5-47% of it).")
    flags.DEFINE_integer("seed", 0, "Random seed; the same seed writes identical files.")
    flags.DEFINE_enum("format", "jpg", ["jpg", "png"], "Image file format (png is lossless).")
    flags.DEFINE_integer("max_objects", 4, "Objects per image: 1 to this many (not counting a crowd).")
    flags.DEFINE_float("crowd_fraction", CROWD_FRACTION, "Fraction of images with a crowd region.")
    flags.DEFINE_float("min_object", MIN_OBJECT, "Smallest object side as a fraction of the image size.")


def main(argv: list[str]) -> None:
    del argv
    written = write_shapes(
        FLAGS.out, FLAGS.train, FLAGS.val, FLAGS.size, FLAGS.seed, FLAGS.format,
        FLAGS.max_objects, FLAGS.crowd_fraction, FLAGS.min_object,
    )
    for split, (json_path, image_dir) in written.items():
        print(f"{split}: {json_path} ({image_dir})")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

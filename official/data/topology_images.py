"""Reader for TopoGAN's data layout: a folder of grayscale images plus a folder of per-image persistence
diagrams (the official `data_path` + `pds_path/<image>.dat`; here `<stem>.npy`, an (n, 2) float array of
(birth, death) rows, written by `write_diagrams` with the same pipeline the loss uses):

    ROOT/<split>/images/<stem>.png        grayscale (any size; resized to `image_size`)
    ROOT/<split>/diagrams/<stem>.npy      (n, 2) finite dimension-`d` pairs of the image scaled to [-1, 1]

Yields {"image": (H, W, 1) float32 in [-1, 1], "diagram": (max_points, 2) float32 zero-padded, "diagram_count":
int32}. An image without its diagram file, or a file that is not a complete image, is counted and skipped
(summary logged); a missing folder or a diagram of the wrong shape is an error naming the file and field.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf
from absl import logging

from official.data import image_decode
from official.data.imagefolder import IMAGE_EXTENSIONS, DatasetError


def split_folders(root: str, split: str) -> tuple[str, str]:
    return os.path.join(root, split, "images"), os.path.join(root, split, "diagrams")


def list_images(root: str, split: str) -> list[str]:
    images, _ = split_folders(root, split)
    if not os.path.isdir(images):
        raise DatasetError(f"{images}: image folder does not exist (expected ROOT/{split}/images/*.png)")
    paths = sorted(os.path.join(images, f) for f in os.listdir(images) if f.endswith(IMAGE_EXTENSIONS))
    if not paths:
        raise DatasetError(f"{images}: no images ({', '.join(IMAGE_EXTENSIONS[:5])})")
    return paths


def load_diagram(path: str) -> np.ndarray:
    try:
        diagram = np.load(path)
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path}: diagram: not a readable .npy array ({err})") from None
    if diagram.ndim != 2 or diagram.shape[1] != 2 or not np.all(np.isfinite(diagram)):
        raise DatasetError(f"{path}: diagram: expected a finite (n, 2) array of (birth, death), got shape {diagram.shape}")
    return diagram.astype(np.float32)


def read_examples(root: str, split: str, max_points: int) -> tuple[list[str], np.ndarray, np.ndarray, int]:
    """(image paths, padded diagrams (N, max_points, 2), counts (N,), images skipped for a missing diagram)."""
    _, diagrams = split_folders(root, split)
    if not os.path.isdir(diagrams):
        raise DatasetError(f"{diagrams}: diagram folder does not exist (write it with tools.make_thin_structures "
                           "or official.data.topology_images.write_diagrams)")
    paths, padded, counts, missing = [], [], [], 0
    for path in list_images(root, split):
        file = os.path.join(diagrams, os.path.splitext(os.path.basename(path))[0] + ".npy")
        if not os.path.exists(file):
            missing += 1
            continue
        diagram = load_diagram(file)
        keep = diagram[np.argsort(diagram[:, 0] - diagram[:, 1], kind="stable")][:max_points]  # most persistent
        padded.append(np.pad(keep, ((0, max_points - len(keep)), (0, 0))))
        counts.append(len(keep))
        paths.append(path)
    if missing:
        logging.warning("topology_images: %d of %d images in %s/%s have no diagram file and are skipped", missing,
                        missing + len(paths), root, split)
    if not paths:
        raise DatasetError(f"{diagrams}: no image has its diagram file (<stem>.npy)")
    return paths, np.stack(padded), np.asarray(counts, np.int32), missing


def topology_dataset(root: str, split: str, image_size: int = 64, max_points: int = 64, training: bool = False,
                     seed: int | None = None, counter: image_decode.SkipCounter | None = None) -> tf.data.Dataset:
    """Unbatched examples (endless and shuffled when training)."""
    paths, diagrams, counts, _ = read_examples(root, split, max_points)
    counter = counter or image_decode.SkipCounter()
    ds = tf.data.Dataset.from_tensor_slices({"source": paths, "diagram": diagrams, "diagram_count": counts})
    if training:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.map(lambda e: {**e, "encoded": tf.io.read_file(e["source"])})
    ds = image_decode.filter_decodable(ds, counter)

    def decode(e):
        image = tf.image.decode_image(e["encoded"], channels=1, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), (image_size, image_size), antialias=True)
        return {"image": tf.clip_by_value(image, 0.0, 255.0) / 127.5 - 1.0, "diagram": e["diagram"],
                "diagram_count": e["diagram_count"]}

    return ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)


def diagram_of(image_uint8: np.ndarray, dimension: int = 1) -> np.ndarray:
    """The reference diagram of one image: finite pairs of the sublevel filtration of the image in [-1, 1]."""
    from official.ops.cubical_persistence import cubical_persistence

    values = np.asarray(image_uint8, np.float64) / 127.5 - 1.0
    points = cubical_persistence(values, (dimension,))[dimension].points
    return points[np.isfinite(points[:, 1])]


def write_diagrams(root: str, split: str, dimension: int = 1) -> int:
    """Computes ROOT/<split>/diagrams/<stem>.npy for every image (TopoGAN's `compute_pd_save`)."""
    from PIL import Image

    _, folder = split_folders(root, split)
    os.makedirs(folder, exist_ok=True)
    paths = list_images(root, split)
    for path in paths:
        with Image.open(path) as img:
            diagram = diagram_of(np.asarray(img.convert("L")), dimension)
        np.save(os.path.join(folder, os.path.splitext(os.path.basename(path))[0] + ".npy"), diagram)
    return len(paths)

"""ModelNet40 in the `modelnet40_ply_hdf5_2048` HDF5 form (PointNet's release, which PointMixup's loader reads).

Layout (one folder):
    ply_data_train0.h5 .. ply_data_train4.h5, ply_data_test0.h5, ply_data_test1.h5
        data  (n, 2048, 3) float32, each shape centred and scaled into the unit sphere
        label (n, 1) uint8
    train_files.txt, test_files.txt   one h5 path per line, prefixed "data/" (the official loader drops 5
                                      characters and reads the rest beside the folder); shape_names.txt
`read_split` resolves each listed file beside the folder (as the loader does) or, failing that, by its base
name inside the folder. The first `num_points` points of each shape are used (1,024 in the recipe); training
shuffles their order and applies the augmentation of PointMixup's `main.py` (data_utils, facts only): one random
scale U(0.8, 1.25), a random rotation about the up (y) axis, ONE translation U(-0.1, 0.1) added to all three
coordinates, then per-point jitter N(0, 0.01) clipped to +-0.05.

`write_modelnet40_h5` writes primitive meshes (official/data/shapes3d) in this layout for tests and small runs
(`python -m tools.make_shapes3d --layout=modelnet40_h5 --out=DIR`).
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

from official.core.errors import UserError

FOLDER = "modelnet40_ply_hdf5_2048"
POINTS_PER_SHAPE = 2048
SPLITS = ("train", "test")


class ModelNetError(UserError, ValueError):
    """A missing or malformed ModelNet40 file; the message names the file and the field."""


@dataclasses.dataclass(frozen=True)
class Augment:
    """Training augmentation of the recipe (PointMixup main.py, rot=True)."""

    scale: tuple[float, float] = (0.8, 1.25)  # PointcloudScale lo, hi
    rotate_up: bool = True  # PointcloudRotate about (0, 1, 0), angle U(0, 2 pi)
    translate: float = 0.1  # PointcloudTranslate range (one scalar for x, y, z)
    jitter_sigma: float = 0.01  # PointcloudJitter std
    jitter_clip: float = 0.05  # PointcloudJitter clip


def _h5py():
    import h5py

    return h5py


def list_files(folder: str, split: str) -> list[str]:
    """The h5 files of `split` named by `{split}_files.txt`, as paths on this machine."""
    if split not in SPLITS:
        raise ModelNetError(f"{folder}: split must be one of {SPLITS}, got {split!r}")
    listing = os.path.join(folder, f"{split}_files.txt")
    if not os.path.isfile(listing):
        raise ModelNetError(f"{listing}: missing (a modelnet40_ply_hdf5_2048 folder lists its h5 files there)")
    with open(listing, encoding="utf-8") as f:
        names = [line.rstrip()[5:] for line in f if line.strip()]  # the loader's line.rstrip()[5:]
    if not names:
        raise ModelNetError(f"{listing}: lists no files")
    parent = os.path.dirname(os.path.abspath(folder))
    paths = []
    for name in names:
        candidates = (os.path.join(parent, name), os.path.join(folder, os.path.basename(name)))
        found = next((c for c in candidates if os.path.isfile(c)), None)
        if found is None:
            raise ModelNetError(f"{listing}: lists {name!r}, found neither {candidates[0]} nor {candidates[1]}")
        paths.append(found)
    return paths


def read_file(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(points (n, P, 3) float32, labels (n,) int32) of one h5 file; ModelNetError names a bad field."""
    h5py = _h5py()
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise ModelNetError(f"{path}: not a readable HDF5 file ({err})") from err
    with handle:
        for field in ("data", "label"):
            if field not in handle:
                raise ModelNetError(f"{path}: field '{field}' missing (has {sorted(handle.keys())})")
        data, label = np.asarray(handle["data"]), np.asarray(handle["label"])
    if data.ndim != 3 or data.shape[-1] != 3:
        raise ModelNetError(f"{path}: field 'data' must be (n, points, 3), got {data.shape}")
    label = label.reshape(len(label), -1)
    if label.shape != (len(data), 1):
        raise ModelNetError(f"{path}: field 'label' must be (n, 1) with n = {len(data)}, got {label.shape}")
    return data.astype(np.float32), label[:, 0].astype(np.int32)


def read_split(folder: str, split: str, num_points: int = 1024, keep_rate: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """All shapes of `split` ((n, num_points, 3), (n,)); `keep_rate` < 1 keeps the first fraction (low-data runs)."""
    if not os.path.isdir(folder):
        raise ModelNetError(f"{folder}: no such folder (train_data.path / eval_data.path)")
    arrays = [read_file(p) for p in list_files(folder, split)]
    points = np.concatenate([a[0] for a in arrays])
    labels = np.concatenate([a[1] for a in arrays])
    if points.shape[1] < num_points:
        raise ModelNetError(f"{folder}: field 'data' has {points.shape[1]} points per shape, fewer than num_points={num_points}")
    if keep_rate < 1.0:  # main.py keeprate: the first int(n * keeprate) shapes
        count = int(len(points) * keep_rate)
        points, labels = points[:count], labels[:count]
    return points[:, :num_points], labels


def shape_names(folder: str) -> list[str]:
    path = os.path.join(folder, "shape_names.txt")
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def augment(points, seed, cfg: Augment):
    """The recipe's augmentation of one (P, 3) cloud with a stateless seed (2,) int (tf.data map)."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, 4)
    scale = tf.random.stateless_uniform([], seeds[0], cfg.scale[0], cfg.scale[1])
    points = points * scale
    if cfg.rotate_up:
        angle = tf.random.stateless_uniform([], seeds[1], 0.0, 2.0 * math.pi)
        c, s = tf.cos(angle), tf.sin(angle)
        # angle_axis(angle, y) = [[c, 0, s], [0, 1, 0], [-s, 0, c]]; points @ R^T
        rotation_t = tf.stack([tf.stack([c, 0.0, -s]), tf.constant([0.0, 1.0, 0.0]), tf.stack([s, 0.0, c])])
        points = tf.matmul(points, rotation_t)
    points = points + tf.random.stateless_uniform([], seeds[2], -cfg.translate, cfg.translate)
    noise = tf.random.stateless_normal(tf.shape(points), seeds[3], stddev=cfg.jitter_sigma)
    return points + tf.clip_by_value(noise, -cfg.jitter_clip, cfg.jitter_clip)


def build_dataset(points: np.ndarray, labels: np.ndarray, training: bool, batch_size: int, seed: int = 0,
                  augmentation: Augment | None = Augment(), input_context=None):
    """Batched tf.data of (points (B, P, 3) float32, labels (B,) int32); training: infinite, shuffled, augmented."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((points, labels))
    if input_context is not None and input_context.num_input_pipelines > 1:
        ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    if not training:
        return ds.batch(batch_size)
    ds = ds.shuffle(len(points), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = tf.data.Dataset.zip((ds, tf.data.Dataset.random(seed=seed + 1).batch(2)))

    def train_map(example, seed_pair):
        cloud, label = example
        seed_pair = tf.cast(seed_pair, tf.int64)
        order = tf.argsort(tf.random.stateless_uniform([tf.shape(cloud)[0]], seed_pair))  # point order shuffle
        cloud = tf.gather(cloud, order)
        if augmentation is not None:
            cloud = augment(cloud, tf.random.experimental.stateless_fold_in(seed_pair, 1), augmentation)
        return cloud, label

    ds = ds.map(train_map, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


# --- writer ----------------------------------------------------------------------------------------------------


def normalise_unit_sphere(points: np.ndarray) -> np.ndarray:
    """Centred on the centroid and scaled so the farthest point has norm 1 (PointNet's pc_normalize)."""
    centred = points - points.mean(axis=0)
    return (centred / np.max(np.linalg.norm(centred, axis=1))).astype(np.float32)


def write_modelnet40_h5(out_dir: str, splits: dict, rng: np.random.Generator, shapes_per_file: int = 2048) -> dict[str, int]:
    """Writes `splits` {"train"|"test": [(class index, name, mesh)]} as a modelnet40_ply_hdf5_2048 folder.

    2,048 surface points per shape (shapes3d.sample_surface), unit-sphere normalised; labels uint8 (n, 1);
    list files with the "data/modelnet40_ply_hdf5_2048/" prefix; shape_names.txt in class-index order. ModelNet40
    has no validation split, so "val" is not written.
    """
    from official.data.shapes3d import sample_surface

    h5py = _h5py()
    os.makedirs(out_dir, exist_ok=True)
    names: dict[int, str] = {}
    counts = {}
    for split in SPLITS:
        items = splits.get(split, [])
        order = rng.permutation(len(items))  # classes interleaved, as ModelNet40's files are
        data = np.zeros((len(items), POINTS_PER_SHAPE, 3), np.float32)
        label = np.zeros((len(items), 1), np.uint8)
        for row, i in enumerate(order):
            class_index, name, mesh = items[i]
            names[class_index] = name
            points, _ = sample_surface(mesh, POINTS_PER_SHAPE, rng)
            data[row], label[row, 0] = normalise_unit_sphere(points), class_index
        listed = []
        for part, start in enumerate(range(0, max(len(items), 1), shapes_per_file)):
            filename = f"ply_data_{split}{part}.h5"
            with h5py.File(os.path.join(out_dir, filename), "w") as f:
                f.create_dataset("data", data=data[start:start + shapes_per_file])
                f.create_dataset("label", data=label[start:start + shapes_per_file])
            listed.append(f"data/{FOLDER}/{filename}")
        with open(os.path.join(out_dir, f"{split}_files.txt"), "w", encoding="utf-8") as f:
            f.write("".join(f"{line}\n" for line in listed))
        counts[split] = len(items)
    with open(os.path.join(out_dir, "shape_names.txt"), "w", encoding="utf-8") as f:
        f.write("".join(f"{names[c]}\n" for c in sorted(names)))
    return counts

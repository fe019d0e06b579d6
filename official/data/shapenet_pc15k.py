"""ShapeNetCore.v2.PC15k (PointFlow's point clouds): reader, tf.data pipeline and the `pc15k` writer.

Layout: ROOT/<synset id>/{train,val,test}/<model id>.npy, each (15000, 3) float32 points of one shape.
Facts from PointFlow's / ShapeGF's datasets/pointflow_datasets.py:
- categories are synset folders (airplane 02691156, car 02958343, chair 03001627; "all" = every folder);
- shapes are ordered by a seeded shuffle (random.Random(38383)) of the listing;
- recenter_per_shape (the ShapeGF configs): subtract the bounding-box centre, divide by half the largest
  bounding-box extent (shapes fit [-1, 1]^3); otherwise one mean / std over the whole split;
- the first 10,000 points of a shape are its train pool, the last 5,000 its test pool; training draws
  `tr_points` / `te_points` with replacement from each pool per item (random_subsample), evaluation
  takes the first ones (np.arange).
Unreadable files and arrays that are not (15000, 3) and finite are counted and skipped with a summary;
a missing root or no split folder at all is a one-line error naming the path.
The writer (`write_pc15k`, layout `pc15k` of tools.make_shapes3d) stores 15,000 surface points of each
primitive mesh; primitive class i goes to the folder SYNTHETIC_SYNSETS[i] (airplane's id for the first).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random

import numpy as np

from official.core.errors import PathNotFoundError

log = logging.getLogger(__name__)

SYNSETS = {  # pointflow_datasets.synsetid_to_cate, the categories the configs name
    "airplane": "02691156", "bench": "02828884", "cabinet": "02933112", "car": "02958343", "chair": "03001627",
    "lamp": "03636649", "sofa": "04256520", "table": "04379243", "vessel": "04530566", "rifle": "04090263",
}
SPLITS = ("train", "val", "test")
POINTS_PER_SHAPE = 15000
TRAIN_POOL = 10000  # points [:10000] train pool, [10000:] test pool
SHUFFLE_SEED = 38383
# Folders the writer uses for primitive classes 0, 1, 2, ... (real synset ids, so category names resolve).
SYNTHETIC_SYNSETS = ("02691156", "03001627", "02958343", "04379243", "04256520", "04530566")


@dataclasses.dataclass
class PC15kSplit:
    """One split of the chosen categories, normalised; `mean` / `scale` undo the normalisation."""

    points: np.ndarray  # (M, 15000, 3) float32, normalised
    mean: np.ndarray  # (M, 1, 3)
    scale: np.ndarray  # (M, 1, 1)
    category: np.ndarray  # (M,) index into the requested synsets
    names: list[tuple[str, str]]  # (synset, "split/model id")
    skipped: list[tuple[str, str]]  # (file, reason) of bad files

    def __len__(self) -> int:
        return len(self.points)


def synset_ids(root: str, categories: tuple[str, ...]) -> list[str]:
    """Synset folders for category names or ids; ("all",) = every synset folder under root."""
    if not os.path.isdir(root):
        raise PathNotFoundError(f"{root}: PC15k root folder does not exist (expected ROOT/<synset>/<split>/*.npy)")
    if "all" in categories:
        return sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and d.isdigit())
    return [SYNSETS.get(c, c) for c in categories]


def _check(path: str) -> tuple[np.ndarray | None, str]:
    try:
        arr = np.load(path)
    except Exception as err:  # noqa: BLE001 - any unreadable file is skipped and counted
        return None, f"unreadable ({type(err).__name__})"
    if arr.shape != (POINTS_PER_SHAPE, 3):
        return None, f"shape {arr.shape}, expected ({POINTS_PER_SHAPE}, 3)"
    if not np.all(np.isfinite(arr)):
        return None, "non-finite values"
    return arr.astype(np.float32), ""


def load_split(root: str, categories: tuple[str, ...], split: str, recenter_per_shape: bool = True) -> PC15kSplit:
    """Reads every <model>.npy of `split` for `categories`, skipping bad files; normalises each shape."""
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
    synsets = synset_ids(root, tuple(categories))
    clouds, cats, names, skipped = [], [], [], []
    found = False
    for c, synset in enumerate(synsets):
        folder = os.path.join(root, synset, split)
        if not os.path.isdir(folder):
            log.warning("%s: split folder missing, category skipped", folder)
            continue
        found = True
        for fname in sorted(os.listdir(folder)):
            if not fname.endswith(".npy"):
                continue
            arr, why = _check(os.path.join(folder, fname))
            if arr is None:
                skipped.append((os.path.join(folder, fname), why))
                continue
            clouds.append(arr)
            cats.append(c)
            names.append((synset, f"{split}/{fname[:-4]}"))
    if not found:
        raise PathNotFoundError(f"{os.path.join(root, synsets[0] if synsets else '<synset>', split)}: no split folder "
                                f"for categories {list(categories)}")
    if skipped:
        log.warning("%s/%s: skipped %d bad file(s) of %d, first %s (%s)", root, split, len(skipped),
                    len(skipped) + len(clouds), *skipped[0])
    if not clouds:
        raise PathNotFoundError(f"{root}: no readable (15000, 3) .npy shape in split {split!r} of {list(categories)}")
    order = list(range(len(clouds)))
    random.Random(SHUFFLE_SEED).shuffle(order)
    points = np.stack([clouds[i] for i in order])
    mean, scale = normalisation(points, recenter_per_shape)
    return PC15kSplit(((points - mean) / scale).astype(np.float32), mean, scale, np.asarray([cats[i] for i in order]),
                      [names[i] for i in order], skipped)


def normalisation(points: np.ndarray, recenter_per_shape: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(mean, scale) with points = normalised * scale + mean: per-shape bbox centre / half the largest extent,
    or (recenter_per_shape False) the split's mean and one std over all coordinates."""
    if recenter_per_shape:
        hi, lo = points.max(axis=1, keepdims=True), points.min(axis=1, keepdims=True)
        return ((hi + lo) / 2).astype(np.float32), (np.max(hi - lo, axis=-1, keepdims=True) / 2).astype(np.float32)
    m = len(points)
    mean = np.broadcast_to(points.reshape(-1, 3).mean(0).reshape(1, 1, 3), (m, 1, 3))
    return mean.astype(np.float32), np.full((m, 1, 1), points.reshape(-1).std(), np.float32)


def dataset(data: PC15kSplit, training: bool, batch_size: int, tr_points: int = 2048, te_points: int = 2048,
            seed: int = 0, drop_remainder: bool | None = None):
    """Batches of ({"points": (B, tr, 3)}, {"ref": (B, te, 3), "mean": (B, 1, 3), "scale": (B, 1, 1),
    "index": (B,)}); training: shuffled, endless, pools sampled with replacement per item."""
    import tensorflow as tf

    tr_pool = tf.constant(data.points[:, :TRAIN_POOL]) if data.points.nbytes < 2**30 else None
    if tr_pool is None:
        raise ValueError(f"{len(data)} shapes exceed the in-graph pools (1 GiB); use fewer categories per run")
    te_pool = tf.constant(data.points[:, TRAIN_POOL:])
    mean, scale = tf.constant(data.mean), tf.constant(data.scale)
    m = len(data)
    tr_n, te_n = min(tr_points, TRAIN_POOL), min(te_points, POINTS_PER_SHAPE - TRAIN_POOL)

    def item(i, seeds=None):
        if training:
            tr_idx = tf.random.stateless_uniform((tr_n,), seeds[0], 0, TRAIN_POOL, tf.int32)
            te_idx = tf.random.stateless_uniform((te_n,), seeds[1], 0, POINTS_PER_SHAPE - TRAIN_POOL, tf.int32)
        else:
            tr_idx, te_idx = tf.range(tr_n), tf.range(te_n)
        return ({"points": tf.gather(tr_pool[i], tr_idx)},
                {"ref": tf.gather(te_pool[i], te_idx), "mean": mean[i], "scale": scale[i], "index": tf.cast(i, tf.int32)})

    ds = tf.data.Dataset.range(m)
    if training:
        ds = ds.repeat().shuffle(min(m, 10000), seed=seed)
        seeds = tf.data.Dataset.random(seed=seed).batch(4, drop_remainder=True).map(lambda s: tf.reshape(s, (2, 2)))
        ds = tf.data.Dataset.zip((ds, seeds)).map(item, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(item, num_parallel_calls=tf.data.AUTOTUNE)
    drop = training if drop_remainder is None else drop_remainder
    return ds.batch(batch_size, drop_remainder=drop).prefetch(tf.data.AUTOTUNE)


def write_pc15k(out: str, splits: dict, rng: np.random.Generator) -> dict[str, int]:
    """tools.make_shapes3d writer: OUT/<synset>/<split>/<class>_<k>.npy, 15,000 surface points per mesh."""
    from official.data.shapes3d import sample_surface

    counts = {}
    for split, items in splits.items():
        seen: dict[int, int] = {}
        for class_idx, class_name, mesh in items:
            folder = os.path.join(out, SYNTHETIC_SYNSETS[class_idx % len(SYNTHETIC_SYNSETS)], split)
            os.makedirs(folder, exist_ok=True)
            k = seen[class_idx] = seen.get(class_idx, -1) + 1
            points, _ = sample_surface(mesh, POINTS_PER_SHAPE, rng)
            np.save(os.path.join(folder, f"{class_name}_{k:04d}.npy"), points.astype(np.float32))
        counts[split] = len(items)
    return counts

"""Occupancy Networks' ShapeNet layout (ONet / ConvONet): reader (tf.data) and writer (tools.make_shapes3d).

On disk (ONet pre-processing, ConvONet `src/data/core.py` + `fields.py`):
    <root>/metadata.yaml                      {synset: {id, name}} (optional: all sub-folders otherwise)
    <root>/<synset>/{train,val,test}.lst      one model folder name per line
    <root>/<synset>/<model>/points.npz        points (M, 3) float16, occupancies bit-packed uint8
                                              (np.unpackbits, truncated to M), loc, scale
    <root>/<synset>/<model>/pointcloud.npz    points (K, 3) and normals (K, 3) on the surface
Rooms (synthetic rooms, ScanNet): `points_iou/points_iou_{00..09}.npz` and `pointcloud/pointcloud_{00..09}
.npz` inside the model folder (`multi_files` alternatives, one drawn at random per load in training,
file 00 at evaluation).
Training examples (ConvONet `configs/pointcloud/shapenet_3plane.yaml`): 3,000 input points drawn with
replacement from the surface cloud plus N(0, 0.005) noise, 2,048 query points drawn with replacement
from points.npz with their occupancies; float16 points get a 1e-4 N(0, 1) jitter (ONet PointsField).
Evaluation: the first `eval_points` points of points.npz (all 100k in the paper) and a fixed input.
A record whose files cannot be read is counted and skipped (`skipped()`, summary logged); a missing
list/metadata file or a file without a required field is a one-line error naming the file and field.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import zipfile
from typing import Any

import numpy as np

from official.core.errors import PathNotFoundError, UserError

log = logging.getLogger(__name__)

POINTS_FIELDS = ("points", "occupancies")
POINTCLOUD_FIELDS = ("points", "normals")


class OnetFormatError(UserError, ValueError):
    """A file of the ONet layout lacks a field or has the wrong shape; the message names both."""


@dataclasses.dataclass
class OnetRecord:
    category: str  # synset folder
    model: str  # model folder
    folder: str  # <root>/<synset>/<model>


# --- files ---------------------------------------------------------------------------------------


def _file(folder: str, name: str, multi_files: int, index: int) -> str:
    """points.npz, or points_iou/points_iou_07.npz for a multi-file (rooms) name without .npz."""
    if multi_files:
        stem = name[:-4] if name.endswith(".npz") else name
        return os.path.join(folder, stem, f"{stem}_{index:02d}.npz")
    return os.path.join(folder, name)


def _require(data: Any, path: str, fields: tuple[str, ...]) -> None:
    for field in fields:
        if field not in data.files:
            raise OnetFormatError(f"{path}: no field '{field}' (has {', '.join(data.files) or 'nothing'})")


def read_points(path: str, unpackbits: bool = True) -> tuple[np.ndarray, np.ndarray, bool]:
    """(points (M, 3) float32, occupancies (M,) bool, stored as float16) of a points.npz."""
    with np.load(path) as data:
        _require(data, path, POINTS_FIELDS)
        points, occ = data["points"], data["occupancies"]
    if points.ndim != 2 or points.shape[1] != 3:
        raise OnetFormatError(f"{path}: field 'points' has shape {points.shape}, expected (M, 3)")
    if unpackbits:
        occ = np.unpackbits(occ)[: points.shape[0]]
    if occ.shape[0] != points.shape[0]:
        raise OnetFormatError(f"{path}: field 'occupancies' holds {occ.shape[0]} values for {points.shape[0]} points")
    return points.astype(np.float32), occ.astype(bool), points.dtype == np.float16


def read_pointcloud(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(points (K, 3), normals (K, 3)) float32 of a pointcloud.npz."""
    with np.load(path) as data:
        _require(data, path, POINTCLOUD_FIELDS)
        points, normals = data["points"], data["normals"]
    if points.ndim != 2 or points.shape[1] != 3 or normals.shape != points.shape:
        raise OnetFormatError(f"{path}: fields 'points' {points.shape} / 'normals' {normals.shape}, expected (K, 3)")
    return points.astype(np.float32), normals.astype(np.float32)


# --- the index -------------------------------------------------------------------------------------


def categories(root: str, wanted: tuple[str, ...] = ()) -> list[str]:
    """Synset folders: `wanted`, else metadata.yaml's keys, else every sub-folder (ONet's Shapes3dDataset)."""
    if not os.path.isdir(root):
        raise PathNotFoundError(f"{root}: ONet dataset folder does not exist")
    if wanted:
        missing = [c for c in wanted if not os.path.isdir(os.path.join(root, c))]
        if missing:
            raise PathNotFoundError(f"{os.path.join(root, missing[0])}: category folder does not exist")
        return list(wanted)
    meta = os.path.join(root, "metadata.yaml")
    if os.path.isfile(meta):
        import yaml

        with open(meta, encoding="utf-8") as f:
            table = yaml.safe_load(f)
        if not isinstance(table, dict) or not table:
            raise OnetFormatError(f"{meta}: expected a mapping synset -> {{id, name}}")
        return sorted(str(k) for k in table)
    return sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))


def class_names(root: str) -> dict[str, str]:
    """synset -> class name from metadata.yaml ({} without one)."""
    meta = os.path.join(root, "metadata.yaml")
    if not os.path.isfile(meta):
        return {}
    import yaml

    with open(meta, encoding="utf-8") as f:
        return {str(k): str(v.get("name", k)) for k, v in (yaml.safe_load(f) or {}).items()}


def list_records(root: str, split: str, wanted: tuple[str, ...] = ()) -> list[OnetRecord]:
    """The models of `split` over the categories, in list order (error naming a missing .lst file)."""
    out = []
    for cat in categories(root, wanted):
        lst = os.path.join(root, cat, f"{split}.lst")
        if not os.path.isfile(lst):
            raise PathNotFoundError(f"{lst}: split list does not exist")
        with open(lst, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
        out.extend(OnetRecord(cat, n, os.path.join(root, cat, n)) for n in names)
    return out


# --- the reader ------------------------------------------------------------------------------------


@dataclasses.dataclass
class OnetReader:
    """Samples training / evaluation examples of an ONet-layout split (numpy, wrapped by `dataset`)."""

    root: str
    split: str = "train"
    categories: tuple[str, ...] = ()
    points_file: str = "points.npz"
    pointcloud_file: str = "pointcloud.npz"
    multi_files: int = 0  # > 0: rooms layout with this many alternative files per model
    input_points: int = 3000
    input_noise: float = 0.005
    query_points: int = 2048
    eval_points: int = 100_000
    unpackbits: bool = True

    def __post_init__(self):
        self.records = list_records(self.root, self.split, tuple(self.categories))
        self._skipped: set[str] = set()
        if self.records:  # the schema of the first model is checked up front: a wrong layout fails at once
            first = self.records[0].folder
            for name, read in ((self.points_file, lambda p: read_points(p, self.unpackbits)),
                               (self.pointcloud_file, read_pointcloud)):
                path = _file(first, name, self.multi_files, 0)
                if not os.path.isfile(path):
                    raise PathNotFoundError(f"{path}: file does not exist (points_file / pointcloud_file / multi_files)")
                read(path)

    def __len__(self) -> int:
        return len(self.records)

    def skipped(self) -> int:
        return len(self._skipped)

    def _load(self, index: int, rng: np.random.Generator, training: bool):
        folder = self.records[index].folder
        pick = int(rng.integers(self.multi_files)) if (self.multi_files and training) else 0
        points, occ, half = read_points(_file(folder, self.points_file, self.multi_files, pick), self.unpackbits)
        cloud, _ = read_pointcloud(_file(folder, self.pointcloud_file, self.multi_files, pick))
        return points, occ, half, cloud

    def example(self, index: int, seed: int, training: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """(input points (N, 3), queries (T, 3), occupancy (T,) float32, ok) of record `index`."""
        rng = np.random.default_rng(seed)
        n_query = self.query_points if training else self.eval_points
        try:
            points, occ, half, cloud = self._load(index, rng, training)
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            if isinstance(err, OnetFormatError):
                raise
            if self.records[index].folder not in self._skipped:
                log.warning("onet_shapes: skipping %s (%s)", self.records[index].folder, err)
            self._skipped.add(self.records[index].folder)
            return (np.zeros((self.input_points, 3), np.float32), np.zeros((n_query, 3), np.float32),
                    np.zeros((n_query,), np.float32), False)
        if training:
            pick = rng.integers(points.shape[0], size=n_query)
            queries, occ = points[pick], occ[pick]
            if half:
                queries = queries + 1e-4 * rng.standard_normal(queries.shape).astype(np.float32)
        else:
            pick = np.arange(n_query) % points.shape[0]
            queries, occ = points[pick], occ[pick]
        inputs = cloud[rng.integers(cloud.shape[0], size=self.input_points)]
        inputs = inputs + self.input_noise * rng.standard_normal(inputs.shape).astype(np.float32)
        return inputs.astype(np.float32), queries.astype(np.float32), occ.astype(np.float32), True

    def surface(self, index: int, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ground-truth surface points and normals of record `index` (Chamfer / normal consistency)."""
        points, normals = read_pointcloud(_file(self.records[index].folder, self.pointcloud_file, self.multi_files, 0))
        return (points, normals) if count is None else (points[:count], normals[:count])

    def dataset(self, training: bool, batch: int, seed: int = 0, input_context: Any = None):
        """tf.data of ({"points", "queries"}, occupancy); endless and shuffled when training."""
        import tensorflow as tf

        if not self.records:
            raise PathNotFoundError(f"{self.root}: split '{self.split}' lists no models")
        n_query = self.query_points if training else self.eval_points
        ids = tf.data.Dataset.range(len(self.records))
        if input_context is not None and input_context.num_input_pipelines > 1:
            ids = ids.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        if training:
            ids = ids.repeat().shuffle(max(len(self.records), 1), seed=seed)
            seeds = tf.data.Dataset.random(seed=seed)
        else:
            seeds = ids
        ds = tf.data.Dataset.zip((ids, seeds))

        def load(i, s):
            out = tf.numpy_function(lambda a, b: self.example(int(a), int(b) % 2**63, training), [i, s],
                                    [tf.float32, tf.float32, tf.float32, tf.bool])
            out[0].set_shape((self.input_points, 3))
            out[1].set_shape((n_query, 3))
            out[2].set_shape((n_query,))
            return out

        def readable(points, queries, occupancy, ok):
            return ok

        def pair(points, queries, occupancy, ok):
            return {"points": points, "queries": queries}, occupancy

        ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.filter(readable).map(pair)
        local = input_context.get_per_replica_batch_size(batch) if input_context is not None else batch
        return ds.batch(local, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

    def log_summary(self) -> None:
        if self._skipped:
            log.warning("onet_shapes: %d of %d records of %s/%s skipped (unreadable files)", len(self._skipped),
                        len(self.records), self.root, self.split)


# --- the writer (tools.make_shapes3d --layout=onet) ---------------------------------------------------

SYNSET_BASE = 90000000  # synthetic synset ids, one per primitive class: 90000000, 90000001, ...
NUM_POINTS = 4096  # points.npz: half uniform in the padded cube, half near the surface (ONet: 100k uniform; trimesh.contains is slow)
NUM_SURFACE = 10_000  # pointcloud.npz
NEAR_SURFACE_STD = 0.025  # near-surface samples: surface points + N(0, std) (ConvONet's rooms mix both)


def sample_points(mesh, rng: np.random.Generator, count: int = NUM_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(count, 3) float32 points (uniform + near-surface, shuffled) and their bool occupancy."""
    from official.data import shapes3d

    uniform, _ = shapes3d.sample_occupancy(mesh, count - count // 2, rng)
    near, _ = shapes3d.sample_surface(mesh, count // 2, rng)
    near = np.clip(near + NEAR_SURFACE_STD * rng.standard_normal(near.shape), -0.55, 0.55).astype(np.float32)
    points = np.concatenate([uniform, near])[rng.permutation(count)]
    return points, np.asarray(mesh.contains(points), dtype=bool)


def write_model(folder: str, mesh, rng: np.random.Generator, multi_files: int = 0, num_points: int = NUM_POINTS,
                num_surface: int = NUM_SURFACE) -> None:
    """Writes points.npz + pointcloud.npz (or the rooms' `multi_files` alternatives) of one mesh."""
    from official.data import shapes3d

    for k in range(max(multi_files, 1)):
        points, occ = sample_points(mesh, rng, num_points)
        surface, normals = shapes3d.sample_surface(mesh, num_surface, rng)
        p_path = _file(folder, "points_iou" if multi_files else "points.npz", multi_files, k)
        c_path = _file(folder, "pointcloud" if multi_files else "pointcloud.npz", multi_files, k)
        os.makedirs(os.path.dirname(p_path), exist_ok=True)
        os.makedirs(os.path.dirname(c_path), exist_ok=True)
        np.savez(p_path, points=points.astype(np.float16), occupancies=np.packbits(occ),
                 loc=np.zeros(3, np.float32), scale=np.float32(1.0))
        np.savez(c_path, points=surface, normals=normals, loc=np.zeros(3, np.float32), scale=np.float32(1.0))


def write_onet(out: str, splits: dict[str, list], rng: np.random.Generator) -> dict[str, int]:
    """tools.make_shapes3d writer: one synset per class, model folders `<split>_<n>`, lists and metadata."""
    import yaml

    names: dict[str, str] = {}
    counts = {}
    for split, items in splits.items():
        lists: dict[str, list[str]] = {}
        for n, (class_idx, class_name, mesh) in enumerate(items):
            synset = f"{SYNSET_BASE + class_idx:08d}"
            names[synset] = class_name
            model = f"{split}_{n:04d}"
            write_model(os.path.join(out, synset, model), mesh, rng)
            lists.setdefault(synset, []).append(model)
        for synset in names:
            with open(os.path.join(out, synset, f"{split}.lst"), "w", encoding="utf-8") as f:
                f.write("".join(f"{m}\n" for m in lists.get(synset, [])))
        counts[split] = len(items)
    with open(os.path.join(out, "metadata.yaml"), "w", encoding="utf-8") as f:
        yaml.safe_dump({s: {"id": s, "name": n} for s, n in sorted(names.items())}, f)
    return counts

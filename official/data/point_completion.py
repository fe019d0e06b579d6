"""Point-cloud completion data: PCN's raw PCD layout and Completion3D's HDF5 layout, readers and writers.

Layouts (the benchmarks' own files, so a downloaded set is read as it is):
- `pcn`: `<split>/partial/<synset>/<model>/<view>.pcd` (one partial scan per view, 8 views in training,
  variable point counts) and `<split>/complete/<synset>/<model>.pcd` (16,384 points); `<split>.list`
  at the root lists `<synset>/<model>` per line. PCD files are ASCII or binary (xyz float32; other
  fields such as rgb are read past). Each (model, view) pair is one example.
- `completion3d`: `<split>/partial/<synset>/<model>.h5` and `<split>/gt/<synset>/<model>.h5`, each an
  HDF5 dataset `data` of shape (2048, 3); `<split>.list` lists `<synset>/<model>`.
A partial cloud is resampled to a fixed count (random subset, or repeats when it has fewer points) so a
batch has static shapes; training draws a fresh sample per epoch, evaluation one fixed per file.
Unreadable records (missing file, bad header, wrong shape) are counted, logged and skipped; a missing
root, split or list file is a one-line `PointDataError` naming the file.
"""

from __future__ import annotations

import logging
import os
import zlib
from dataclasses import dataclass

import numpy as np

from official.core.errors import PathNotFoundError, UserError
from official.data import shapes3d

log = logging.getLogger(__name__)

LAYOUTS = ("pcn", "completion3d")
PCN_COMPLETE_POINTS = 16_384  # PCN ground truth
C3D_POINTS = 2_048  # Completion3D partial and ground truth
_PCD_TYPES = {("F", 4): "<f4", ("F", 8): "<f8", ("I", 1): "<i1", ("I", 2): "<i2", ("I", 4): "<i4",
              ("I", 8): "<i8", ("U", 1): "<u1", ("U", 2): "<u2", ("U", 4): "<u4", ("U", 8): "<u8"}


class PointDataError(UserError, ValueError):
    """A point file or list is malformed; the message names the file and the field."""


# --- PCD -------------------------------------------------------------------------------------------
def read_pcd(path: str) -> np.ndarray:
    """(N, 3) float32 xyz of a PCD file (DATA ascii or binary; PCD v0.7 header)."""
    with open(path, "rb") as f:
        raw = f.read()
    header: dict[str, list[str]] = {}
    offset = 0
    while True:
        end = raw.find(b"\n", offset)
        if end < 0:
            raise PointDataError(f"{path}: DATA: header has no DATA line")
        line = raw[offset:end].decode("ascii", errors="replace").strip()
        offset = end + 1
        if not line or line.startswith("#"):
            continue
        key, *values = line.split()
        header[key.upper()] = values
        if key.upper() == "DATA":
            break
    for key in ("FIELDS", "SIZE", "TYPE", "POINTS"):
        if key not in header:
            raise PointDataError(f"{path}: {key}: missing from the PCD header")
    fields = header["FIELDS"]
    counts = [int(c) for c in header.get("COUNT", ["1"] * len(fields))]
    if not (len(fields) == len(header["SIZE"]) == len(header["TYPE"]) == len(counts)):
        raise PointDataError(f"{path}: FIELDS: {len(fields)} fields but SIZE/TYPE/COUNT lengths differ")
    missing = [a for a in "xyz" if a not in fields]
    if missing:
        raise PointDataError(f"{path}: FIELDS: no {' '.join(missing)} field (has {' '.join(fields)})")
    n = int(header["POINTS"][0])
    mode = header["DATA"][0].lower() if header["DATA"] else ""
    columns: list[tuple[str, str, int]] = []  # (field, numpy dtype, count)
    for name, size, kind, count in zip(fields, header["SIZE"], header["TYPE"], counts, strict=True):
        dtype = _PCD_TYPES.get((kind.upper(), int(size)))
        if dtype is None:
            raise PointDataError(f"{path}: TYPE: unsupported {kind}{size} for field {name}")
        columns.append((name, dtype, count))
    if mode == "ascii":
        text = raw[offset:].decode("ascii", errors="replace").split()
        width = sum(c for _, _, c in columns)
        if len(text) < n * width:
            raise PointDataError(f"{path}: POINTS: header says {n} points, data holds {len(text) // max(width, 1)}")
        table = np.asarray(text[: n * width], dtype=np.float64).reshape(n, width)
        starts = np.cumsum([0] + [c for _, _, c in columns])
        pick = [int(starts[fields.index(a)]) for a in "xyz"]
        points = table[:, pick]
    elif mode == "binary":
        dtype = np.dtype([(name, dt, (count,)) if count > 1 else (name, dt) for name, dt, count in columns])
        if len(raw) - offset < n * dtype.itemsize:
            raise PointDataError(f"{path}: POINTS: header says {n} points, data holds {(len(raw) - offset) // dtype.itemsize}")
        table = np.frombuffer(raw, dtype=dtype, count=n, offset=offset)
        points = np.stack([table[a] for a in "xyz"], axis=-1)
    else:
        raise PointDataError(f"{path}: DATA: unsupported mode {mode!r} (ascii or binary)")
    return np.ascontiguousarray(points, dtype=np.float32)


def write_pcd(path: str, points: np.ndarray, binary: bool = False) -> None:
    """Writes (N, 3) xyz as a PCD v0.7 file (FIELDS x y z, SIZE 4, TYPE F), ASCII or binary."""
    points = np.asarray(points, dtype="<f4").reshape(-1, 3)
    n = len(points)
    header = (
        "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\n"
        f"COUNT 1 1 1\nWIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA {'binary' if binary else 'ascii'}\n"
    )
    with open(path, "wb") as f:
        f.write(header.encode("ascii"))
        if binary:
            f.write(points.tobytes())
        else:
            f.write("".join(f"{x:.9g} {y:.9g} {z:.9g}\n" for x, y, z in points).encode("ascii"))


# --- HDF5 ------------------------------------------------------------------------------------------
def read_h5_points(path: str, key: str = "data") -> np.ndarray:
    """(N, 3) float32 of the HDF5 dataset `key` (Completion3D: `data` (2048, 3))."""
    import h5py

    with h5py.File(path, "r") as f:
        if key not in f:
            raise PointDataError(f"{path}: {key}: no such dataset (has {', '.join(sorted(f.keys()))})")
        points = np.asarray(f[key], dtype=np.float32)
    if points.ndim != 2 or points.shape[1] != 3:
        raise PointDataError(f"{path}: {key}: expected shape (N, 3), got {points.shape}")
    return points


def write_h5_points(path: str, points: np.ndarray, key: str = "data") -> None:
    import h5py

    with h5py.File(path, "w") as f:
        f.create_dataset(key, data=np.asarray(points, np.float32))


# --- listing ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompletionExample:
    partial: str  # partial cloud file
    complete: str  # ground-truth file
    name: str  # "<synset>/<model>[/<view>]"


def read_list(root: str, split: str) -> list[str]:
    """`<synset>/<model>` entries of `<root>/<split>.list` (blank lines ignored)."""
    if not os.path.isdir(root):
        raise PathNotFoundError(f"{root}: no such dataset folder")
    path = os.path.join(root, f"{split}.list")
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: list file of split {split!r} not found")
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def list_examples(layout: str, root: str, split: str) -> list[CompletionExample]:
    """Every (partial, complete) pair of a split in list order (PCN: one per view file)."""
    if layout not in LAYOUTS:
        raise PointDataError(f"{root}: layout: must be one of {LAYOUTS}, got {layout!r}")
    out = []
    for entry in read_list(root, split):
        if layout == "completion3d":
            out.append(CompletionExample(os.path.join(root, split, "partial", f"{entry}.h5"),
                                         os.path.join(root, split, "gt", f"{entry}.h5"), entry))
            continue
        complete = os.path.join(root, split, "complete", f"{entry}.pcd")
        views = os.path.join(root, split, "partial", entry)
        names = sorted(v for v in os.listdir(views) if v.endswith(".pcd")) if os.path.isdir(views) else []
        if not names:  # counted and skipped by the loader as a missing partial
            out.append(CompletionExample(os.path.join(views, "00.pcd"), complete, f"{entry}/00"))
        out.extend(CompletionExample(os.path.join(views, v), complete, f"{entry}/{v[:-4]}") for v in names)
    return out


def read_points(path: str) -> np.ndarray:
    if path.endswith(".pcd"):
        return read_pcd(path)
    return read_h5_points(path)


def resample(points: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` points of `points`: a random subset, or all of them plus random repeats when fewer."""
    n = len(points)
    if n == 0:
        raise PointDataError("resample: empty point cloud")
    if n >= count:
        idx = rng.choice(n, count, replace=False)
    else:
        idx = np.concatenate([rng.permutation(n), rng.choice(n, count - n, replace=True)])
    return points[idx]


def load_example(example: CompletionExample, num_partial: int, num_complete: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(partial (num_partial, 3), complete (num_complete, 3)); PointDataError / OSError when unreadable."""
    partial = read_points(example.partial)
    complete = read_points(example.complete)
    if num_complete and len(complete) != num_complete:
        complete = resample(complete, num_complete, rng)
    return resample(partial, num_partial, rng), complete


def _example_seed(name: str, seed: int) -> int:
    return (zlib.crc32(name.encode()) + 7919 * seed) % (2**31)


def completion_dataset(layout: str, root: str, split: str, num_partial: int, num_complete: int,
                       training: bool, seed: int = 0, skipped=None):
    """A `tf.data.Dataset` of (partial (num_partial, 3), complete (num_complete, 3)) float32, unbatched.

    Training: shuffled every epoch (infinite when the caller repeats) and partials resampled afresh;
    evaluation: list order, one fixed resample per file. `skipped` (image_decode.SkipCounter) counts the
    unreadable records, each logged once with its file and reason.
    """
    import tensorflow as tf

    examples = list_examples(layout, root, split)
    if not examples:
        raise PointDataError(f"{os.path.join(root, f'{split}.list')}: entries: the list is empty")
    state = {"calls": 0, "logged": set()}

    def load(i):
        ex = examples[int(i)]
        state["calls"] += 1
        rng = np.random.default_rng(_example_seed(ex.name, seed + (state["calls"] if training else 0)))
        try:
            partial, complete = load_example(ex, num_partial, num_complete, rng)
            return partial, complete, True
        except (OSError, ValueError, KeyError) as err:
            if ex.name not in state["logged"]:
                state["logged"].add(ex.name)
                log.warning("skipped unreadable completion record %s: %s", ex.name, str(err).splitlines()[0])
            return (np.zeros((num_partial, 3), np.float32), np.zeros((num_complete, 3), np.float32), False)

    def tf_load(i):
        partial, complete, ok = tf.numpy_function(load, [i], [tf.float32, tf.float32, tf.bool])
        partial.set_shape([num_partial, 3])
        complete.set_shape([num_complete, 3])
        return partial, complete, ok

    def keep(partial, complete, ok):
        if skipped is None:
            return ok

        def skip():
            with tf.control_dependencies([skipped.increment()]):
                return tf.constant(False)

        return tf.cond(ok, lambda: tf.constant(True), skip)

    ds = tf.data.Dataset.range(len(examples))
    if training:
        ds = ds.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(tf_load, num_parallel_calls=1 if not training else tf.data.AUTOTUNE, deterministic=not training)
    return ds.filter(keep).map(lambda p, c, ok: (p, c))


# --- writers (tools.make_shapes3d --layout=pcn | completion3d) -------------------------------------
_SYNSET = "{:08d}"  # class index as an 8-digit synset-like id


def _surface_and_partials(mesh, rng, num_complete: int, num_surface: int, views: int):
    complete, _ = shapes3d.sample_surface(mesh, num_complete, rng)
    surface, _ = shapes3d.sample_surface(mesh, num_surface, rng)
    partials = [surface[shapes3d.partial_view(surface, rng)] for _ in range(views)]
    return complete, partials


def _write_split_lists(out_dir: str, split: str, entries: list[str]) -> None:
    with open(os.path.join(out_dir, f"{split}.list"), "w") as f:
        f.write("".join(f"{e}\n" for e in entries))


def write_pcn(out_dir: str, splits: dict, rng: np.random.Generator, views: int = 2,
              num_complete: int = PCN_COMPLETE_POINTS, num_surface: int = 3_000) -> dict[str, int]:
    """PCN raw layout: complete clouds of `num_complete` points (binary PCD), `views` partial scans per
    shape (ASCII PCD; half of a `num_surface` sample seen from a random direction). The real set has 8
    views in training, 1 in val/test; two keep the fixture small. Returns {split: partial files}."""
    counts = {}
    for split, shapes in splits.items():
        entries = []
        for i, (cls, _, mesh) in enumerate(shapes):
            entry = f"{_SYNSET.format(cls)}/shape{i:04d}"
            entries.append(entry)
            complete, partials = _surface_and_partials(mesh, rng, num_complete, num_surface, views)
            os.makedirs(os.path.join(out_dir, split, "complete", _SYNSET.format(cls)), exist_ok=True)
            write_pcd(os.path.join(out_dir, split, "complete", f"{entry}.pcd"), complete, binary=True)
            os.makedirs(os.path.join(out_dir, split, "partial", entry), exist_ok=True)
            for v, partial in enumerate(partials):
                write_pcd(os.path.join(out_dir, split, "partial", entry, f"{v:02d}.pcd"), partial)
        _write_split_lists(out_dir, split, entries)
        counts[split] = len(entries) * views
    return counts


def write_completion3d(out_dir: str, splits: dict, rng: np.random.Generator) -> dict[str, int]:
    """Completion3D layout: `partial` and `gt` HDF5 files with `data` (2048, 3) per shape; the partial is
    the one-sided half of a 4,096-point surface sample (exactly 2,048 points), the gt a fresh 2,048."""
    counts = {}
    for split, shapes in splits.items():
        entries = []
        for i, (cls, _, mesh) in enumerate(shapes):
            entry = f"{_SYNSET.format(cls)}/shape{i:04d}"
            entries.append(entry)
            complete, (partial,) = _surface_and_partials(mesh, rng, C3D_POINTS, 2 * C3D_POINTS, 1)
            for kind, points in (("partial", partial), ("gt", complete)):
                os.makedirs(os.path.join(out_dir, split, kind, _SYNSET.format(cls)), exist_ok=True)
                write_h5_points(os.path.join(out_dir, split, kind, f"{entry}.h5"), points)
        _write_split_lists(out_dir, split, entries)
        counts[split] = len(entries)
    return counts

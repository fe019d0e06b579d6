"""The ScanNet Pair Dataset of PointContrast (pretrain/data_preprocess): pair list + per-frame .npz clouds.

Layout (as `point_cloud_extractor.py --save_npz` and `generate_list.py` write it, read by
`ScanNetMatchPairDataset` of lib/ddp_data_loaders.py):
- `<root>/<scene>/pcd/<frame>.npz` with key `pcd`: (N, 3) float xyz in metres, world coordinates
  (every 25th RGB-D frame back-projected with its pose), so the two clouds of a pair are aligned;
- `<root>/<list>.txt`: one pair per line, `path0 path1 overlap_ratio`, paths relative to the root
  (e.g. `data_f25/scene0589_00/pcd/850.npz data_f25/scene0589_00/pcd/1150.npz 0.794`).
The official loader reads only `pcd` (colours are replaced by ones); our writer also stores `color`
(N, 3) uint8, which readers ignore.
Bad records (unreadable file, missing `pcd`, wrong shape, non-finite or empty cloud, malformed list line)
are counted, logged with the file and field, and skipped; a missing root or list file is a one-line
`PairDataError` naming it.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from official.core.errors import PathNotFoundError, UserError
from official.data import shapes3d

log = logging.getLogger(__name__)


class PairDataError(UserError, ValueError):
    """A pair list or cloud is malformed; the message names the file and the field."""


def read_pair_list(root: str, list_file: str) -> tuple[list[tuple[str, str, float]], int]:
    """(pairs [(path0, path1, overlap)], malformed lines skipped) of `<root>/<list_file>`."""
    if not os.path.isdir(root):
        raise PathNotFoundError(f"{root}: ScanNet pair root not found (data.path)")
    path = os.path.join(root, list_file)
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: pair list not found (data.pair_list)")
    pairs, bad = [], 0
    with open(path) as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            try:
                if len(parts) < 2:
                    raise ValueError("expected `path0 path1 overlap_ratio`")
                overlap = float(parts[2]) if len(parts) > 2 else float("nan")
            except ValueError as err:
                bad += 1
                log.warning("skipped pair list line %s:%d (overlap_ratio): %s", path, n, err)
                continue
            pairs.append((parts[0], parts[1], overlap))
    if not pairs:
        raise PairDataError(f"{path}: pair list has no pairs ({bad} malformed lines)")
    return pairs, bad


def load_cloud(path: str) -> np.ndarray:
    """(N, 3) float32 `pcd` of one frame's .npz; PairDataError naming the file and field otherwise."""
    try:
        with np.load(path) as data:
            if "pcd" not in data.files:
                raise PairDataError(f"{path}: pcd: key missing (has {data.files})")
            pcd = np.asarray(data["pcd"])
    except PairDataError:
        raise
    except Exception as err:  # unreadable / not an npz archive
        raise PairDataError(f"{path}: pcd: unreadable ({type(err).__name__}: {err})") from err
    if pcd.ndim != 2 or pcd.shape[1] < 3 or len(pcd) == 0:
        raise PairDataError(f"{path}: pcd: expected shape (N>0, 3), got {pcd.shape}")
    pcd = pcd[:, :3].astype(np.float32)
    if not np.all(np.isfinite(pcd)):
        raise PairDataError(f"{path}: pcd: non-finite coordinates")
    return pcd


class PairReader:
    """Iterates readable pairs of a list as dicts {points0, points1, index}; counts skipped records."""

    def __init__(self, root: str, list_file: str):
        self.root = root
        self.pairs, self.bad_lines = read_pair_list(root, list_file)
        self.skipped = 0

    def __len__(self) -> int:
        return len(self.pairs)

    def read(self, i: int) -> dict | None:
        p0, p1, _ = self.pairs[i]
        try:
            return {"points0": load_cloud(os.path.join(self.root, p0)),
                    "points1": load_cloud(os.path.join(self.root, p1)), "index": np.int32(i)}
        except PairDataError as err:
            self.skipped += 1
            log.warning("skipped ScanNet pair %d: %s", i, str(err))
            return None

    def generate(self, order: np.ndarray):
        for i in order:
            example = self.read(int(i))
            if example is not None:
                yield example

    def summary(self) -> str:
        return f"{len(self.pairs)} pairs listed, {self.bad_lines} malformed list lines, {self.skipped} unreadable pairs skipped"


# --- writer (tools.make_shapes3d --layout=scannet_pairs) ------------------------------------------
SCENE_PRIMITIVES = 3  # primitives per synthetic scene
VIEWS = 3  # partial scans per scene; pairs among them with overlap >= 0.3 are listed
POINTS_PER_PRIMITIVE = 1500
FLOOR_POINTS = 2500
OVERLAP_RADIUS = 0.0375  # 1.5 x 2.5 cm, the official matching radius


def overlap_ratio(a: np.ndarray, b: np.ndarray, radius: float = OVERLAP_RADIUS) -> float:
    """Fraction of a's points with a point of b within radius (the pair list's overlap, our definition)."""
    from scipy.spatial import cKDTree

    d, _ = cKDTree(b).query(a, k=1, distance_upper_bound=radius)
    return float(np.mean(np.isfinite(d)))


def synthetic_scene(meshes, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(points (N, 3), colours (N, 3) uint8): primitives of ~0.5 m on a 2 m x 2 m floor, one colour each."""
    parts, colours = [], []
    slots = rng.permutation(4)[: len(meshes)]
    for mesh, slot in zip(meshes, slots, strict=False):
        pts, _ = shapes3d.sample_surface(mesh, POINTS_PER_PRIMITIVE, rng)
        scale = rng.uniform(0.4, 0.7)
        centre = np.array([(slot % 2) - 0.5, (slot // 2) - 0.5, 0.0]) * 1.0 + rng.uniform(-0.15, 0.15, 3) * [1, 1, 0]
        pts = pts * scale
        pts[:, 2] -= pts[:, 2].min()
        parts.append(pts + centre)
        colours.append(np.repeat(rng.integers(0, 256, (1, 3)), len(pts), 0))
    floor = np.concatenate([rng.uniform(-1, 1, (FLOOR_POINTS, 2)), np.zeros((FLOOR_POINTS, 1))], 1)
    parts.append(floor)
    colours.append(np.full((FLOOR_POINTS, 3), 128))
    return np.concatenate(parts).astype(np.float32), np.concatenate(colours).astype(np.uint8)


def write_scannet_pairs(out: str, splits: dict, rng: np.random.Generator) -> dict[str, int]:
    """Scenes of SCENE_PRIMITIVES primitives, VIEWS partial scans each (official.data.shapes3d.partial_view
    with directions 60 degrees apart around the vertical), saved as `<split>/<scene>/pcd/<view>.npz`
    (`pcd`, `color`); `<split>.txt` lists the pairs with overlap >= 0.3. Returns {split: pairs}."""
    counts = {}
    for split, items in splits.items():
        meshes = [mesh for _, _, mesh in items]
        lines = []
        for s in range(max(len(meshes) // SCENE_PRIMITIVES, 1)):
            group = meshes[s * SCENE_PRIMITIVES:(s + 1) * SCENE_PRIMITIVES]
            points, colours = synthetic_scene(group, rng)
            folder = os.path.join(out, split, f"scene{s:04d}_00", "pcd")
            os.makedirs(folder, exist_ok=True)
            start = rng.uniform(0, 2 * np.pi)
            views = []
            for v in range(VIEWS):
                angle = start + v * np.pi / 3
                direction = np.array([np.cos(angle), np.sin(angle), 0.6])
                idx = np.sort(shapes3d.partial_view(points, rng, keep=0.6, direction=direction))
                views.append(points[idx])
                np.savez(os.path.join(folder, f"{v * 25}.npz"), pcd=points[idx], color=colours[idx])
            for a in range(VIEWS):
                for b in range(a + 1, VIEWS):
                    ratio = overlap_ratio(views[a], views[b])
                    if ratio >= 0.3:
                        rel = f"{split}/scene{s:04d}_00/pcd"
                        lines.append(f"{rel}/{a * 25}.npz {rel}/{b * 25}.npz {ratio:.6f}")
        with open(os.path.join(out, f"{split}.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        counts[split] = len(lines)
    return counts

"""FAUST-2500 reader (LIMP's pre-processed FAUST registrations): meshes of one connectivity, identity labels.

Layout (the authors' datasets/faust_2500.py and misc_utils.load_mesh): ROOT/raw/tr_reg_%03d_2000/ holding
`mesh.vert` (V rows "x y z") and `mesh.triv` (F rows of 1-based vertex indices); we also accept
ROOT/raw/tr_reg_%03d_2000.{off,ply,obj} files (read with trimesh, process=False keeps the vertex order).
- identity = index // poses_per_subject (10 in FAUST); split: the first 80 meshes train, the last 20 test.
- pre-processing as the authors': y shifted so that min(y) = -0.85 (`min_y`; None keeps the mesh).
- augmentation (training): a rotation about y by U(-36, 36) degrees and an independent U(-0.005, 0.005)
  offset per vertex and axis (torch_geometric RandomRotate(36, axis=1) + RandomTranslate(0.005)).
- geodesic matrices by official/ops/heat_geodesics.py (float64, t = 0.1), cached in ROOT/processed/.
Unreadable meshes and meshes whose faces differ from the first one are counted and skipped with a
summary; a missing ROOT/raw or an empty selection raises a one-line error naming the path.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np

from official.core.errors import PathNotFoundError, UserError

log = logging.getLogger(__name__)

NAME = "tr_reg_%03d_2000"
MESH_EXTENSIONS = (".off", ".ply", ".obj")


class FaustFormatError(UserError, ValueError):
    """A FAUST-2500 file that cannot be used; the message names the file and the field."""


@dataclasses.dataclass
class FaustMeshes:
    vertices: np.ndarray  # (M, V, 3) float32
    faces: np.ndarray  # (F, 3) int32, 0-based, shared by every mesh
    identity: np.ndarray  # (M,) int32 subject label
    index: np.ndarray  # (M,) int32 FAUST index (tr_reg_%03d)
    skipped: list  # (path, reason) of skipped meshes

    def __len__(self) -> int:
        return len(self.vertices)


def mesh_path(raw_dir: str, index: int) -> str | None:
    """The folder (mesh.vert/mesh.triv) or mesh file of FAUST index `index`, None if absent."""
    base = os.path.join(raw_dir, NAME % index)
    if os.path.isdir(base):
        return base
    for ext in MESH_EXTENSIONS:
        if os.path.isfile(base + ext):
            return base + ext
    return None


def read_mesh(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(vertices float32 (V, 3), faces int32 (F, 3) 0-based) of one FAUST-2500 entry; FaustFormatError if bad."""
    if os.path.isdir(path):
        vert, triv = os.path.join(path, "mesh.vert"), os.path.join(path, "mesh.triv")
        for f in (vert, triv):
            if not os.path.isfile(f):
                raise FaustFormatError(f"{f}: file missing")
        try:
            vertices = np.loadtxt(vert, dtype=np.float64, ndmin=2)
        except ValueError as err:
            raise FaustFormatError(f"{vert}: vertices unreadable ({err})") from None
        try:
            faces = np.loadtxt(triv, dtype=np.float64, ndmin=2)
        except ValueError as err:
            raise FaustFormatError(f"{triv}: faces unreadable ({err})") from None
        if faces.size and (faces != np.round(faces)).any():
            raise FaustFormatError(f"{triv}: faces are not integers")
        faces = faces.astype(np.int64) - 1  # 1-based in the authors' files
        where = triv
    else:
        import trimesh

        try:
            mesh = trimesh.load(path, process=False, force="mesh")
        except Exception as err:  # noqa: BLE001 - any parser failure is a bad file
            raise FaustFormatError(f"{path}: unreadable mesh ({type(err).__name__}: {err})") from None
        vertices, faces, where = np.asarray(mesh.vertices, np.float64), np.asarray(mesh.faces, np.int64), path
    if vertices.ndim != 2 or vertices.shape[1] != 3 or not np.isfinite(vertices).all():
        raise FaustFormatError(f"{path}: vertices must be finite (V, 3), got shape {vertices.shape}")
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.min(initial=0) < 0 or faces.max(initial=0) >= len(vertices):
        raise FaustFormatError(f"{where}: faces must be (F, 3) indices into {len(vertices)} vertices")
    return vertices.astype(np.float32), faces.astype(np.int32)


def load_faust2500(root: str, split: str = "train", num_meshes: int = 100, num_train: int = 80,
                   poses_per_subject: int = 10, min_y: float | None = -0.85) -> FaustMeshes:
    """Reads the meshes of `split` ('train' = first num_train, 'test' = the rest, 'all')."""
    raw = os.path.join(root, "raw")
    if not os.path.isdir(raw):
        raise PathNotFoundError(f"{raw}: FAUST-2500 raw folder not found (want raw/{NAME % 0}/mesh.vert ...)")
    ranges = {"train": range(num_train), "test": range(num_train, num_meshes), "all": range(num_meshes)}
    if split not in ranges:
        raise UserError(f"split={split!r}: want one of {sorted(ranges)}")
    vertices, identity, index, skipped, faces = [], [], [], [], None
    for i in ranges[split]:
        path = mesh_path(raw, i)
        if path is None:
            skipped.append((os.path.join(raw, NAME % i), "missing"))
            continue
        try:
            v, f = read_mesh(path)
        except FaustFormatError as err:
            skipped.append((path, str(err)))
            continue
        if faces is None:
            faces = f
        elif f.shape != faces.shape or (f != faces).any() or len(v) != len(vertices[0]):
            skipped.append((path, f"connectivity differs from {NAME % index[0]} ({len(v)} vertices, {len(f)} faces)"))
            continue
        if min_y is not None:
            v = v.copy()
            v[:, 1] -= v[:, 1].min() - min_y
        vertices.append(v)
        identity.append(i // poses_per_subject)
        index.append(i)
    if skipped:
        log.warning("%s: skipped %d of %d meshes, first %s (%s)", raw, len(skipped), len(ranges[split]), *skipped[0])
    if not vertices:
        raise FaustFormatError(f"{raw}: no usable {split} mesh ({len(skipped)} skipped; first: {skipped[0][0]})")
    return FaustMeshes(np.stack(vertices), faces, np.asarray(identity, np.int32), np.asarray(index, np.int32),
                       skipped)


def geodesics(root: str, meshes: FaustMeshes, t: float = 0.1, cache: bool = True) -> np.ndarray:
    """(M, V, V) float32 heat-method geodesic matrices, cached in ROOT/processed/geodesics_t<t>.npz by index.

    t: heat time (LIMP: 0.1 on FAUST in metres); None = Crane's h^2 per mesh (cache name geodesics_th2.npz).
    """
    from official.ops.heat_geodesics import heat_geodesics

    path = os.path.join(root, "processed", "geodesics_th2.npz" if t is None else f"geodesics_t{t:g}.npz")
    stored = {}
    if cache and os.path.isfile(path):
        with np.load(path) as data:
            stored = {int(k): data[k] for k in data.files}
    out = []
    for i, v in zip(meshes.index, meshes.vertices, strict=False):
        if int(i) not in stored or stored[int(i)].shape != (len(v), len(v)):
            stored[int(i)] = np.asarray(heat_geodesics(v.astype(np.float64), meshes.faces, t=t), np.float32)
        out.append(stored[int(i)])
    if cache:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp.npz"
        np.savez(tmp, **{str(k): d for k, d in stored.items()})
        os.replace(tmp, path)
    return np.stack(out)


def augment(points, rotate_degrees: float = 36.0, translate: float = 0.005, seed=None):
    """Rotation about y by U(-deg, deg) and per-vertex U(-translate, translate) jitter (TF, for tf.data)."""
    import tensorflow as tf

    angle = tf.random.uniform((), -rotate_degrees, rotate_degrees) * (np.pi / 180.0)
    c, s = tf.cos(angle), tf.sin(angle)
    zero, one = tf.zeros_like(c), tf.ones_like(c)
    rot = tf.stack([tf.stack([c, zero, s]), tf.stack([zero, one, zero]), tf.stack([-s, zero, c])])
    points = tf.matmul(points, tf.cast(rot, points.dtype), transpose_b=True)
    return points + tf.random.uniform(tf.shape(points), -translate, translate, dtype=points.dtype)


def dataset(meshes: FaustMeshes, batch_size: int, training: bool, seed: int | None = None,
            rotate_degrees: float = 36.0, translate: float = 0.005):
    """tf.data of dict(points (augmented when training), vertices (original), identity, index), batched.

    Training: endless, shuffled, batches of exactly `batch_size`; evaluation: one ordered pass.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(dict(vertices=meshes.vertices, identity=meshes.identity,
                                                 index=meshes.index))
    if training:
        ds = ds.repeat().shuffle(len(meshes), seed=seed)
    ds = ds.map(lambda d: {**d, "points": augment(d["vertices"], rotate_degrees, translate) if training
                           else d["vertices"]})
    return ds.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)


def pair_tables(identity: np.ndarray) -> dict[str, np.ndarray]:
    """Ordered index pairs (i != j) of all meshes, of two poses of one subject and of two subjects.

    Each table is (K, 2) int32; `different` falls back to `all` when there is a single subject, and `same`
    is empty when no subject has two meshes.
    """
    identity = np.asarray(identity)
    i, j = np.meshgrid(np.arange(len(identity)), np.arange(len(identity)), indexing="ij")
    i, j = i.ravel(), j.ravel()
    keep = i != j
    same = keep & (identity[i] == identity[j])
    different = keep & (identity[i] != identity[j])
    tables = {"all": np.stack([i[keep], j[keep]], 1), "same": np.stack([i[same], j[same]], 1),
              "different": np.stack([i[different], j[different]], 1)}
    if not len(tables["different"]):
        tables["different"] = tables["all"]
    return {k: v.astype(np.int32) for k, v in tables.items()}


def pair_dataset(identity: np.ndarray, pairs: int, seed: int = 0):
    """Endless tf.data of dict(interp_pair, intra_pair, inter_pair (pairs, 2) int32, alphas (pairs, 3) float32).

    LIMP's three samplers per step: any two meshes (interpolation), two poses of one subject (intra-subject
    disentanglement), two subjects (inter-subject); alphas ~ U(0, 1) mix each pair. UserError when no
    subject has two meshes (the intra-subject sampler needs them).
    """
    import tensorflow as tf

    tables = pair_tables(identity)
    if len(identity) < 2 or not len(tables["same"]):
        raise UserError(f"LIMP pairs: need a subject with two meshes among {len(identity)} meshes "
                        f"(identities {sorted(set(np.asarray(identity).tolist()))}); check poses_per_subject")
    consts = {k: tf.constant(v) for k, v in tables.items()}

    def draw(r):
        r = tf.reshape(r, (6, pairs))

        def pick(table, row):
            return tf.gather(table, tf.math.floormod(row, tf.cast(tf.shape(table)[0], tf.int64)))

        alphas = tf.cast(tf.math.floormod(r[3:], 1 << 24), tf.float32) / float(1 << 24)
        return {"interp_pair": pick(consts["all"], r[0]), "intra_pair": pick(consts["same"], r[1]),
                "inter_pair": pick(consts["different"], r[2]), "alphas": tf.transpose(alphas)}

    return tf.data.Dataset.random(seed=seed).batch(6 * pairs, drop_remainder=True).map(draw)

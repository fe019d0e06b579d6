"""Primitive 3D shapes as watertight meshes, and the samples the point-cloud datasets are made of.

`tools.make_shapes3d` writes these into the on-disk layouts of ModelNet40, PCN/Completion3D,
ShapeNet PC15k, Occupancy Networks and the ScanNet pairs, so that every point method's reader, task
and small run works on files in the real format. Each class is one primitive kind; each shape gets a
random size, aspect and rotation, then is normalised like ShapeNet in ONet (centred, longest bounding
box side 1), so the shapes of a class differ and the classes differ in geometry, not in scale.
"""

from __future__ import annotations

import numpy as np

PRIMITIVES = ("sphere", "box", "cylinder", "cone", "torus", "capsule")


def _trimesh():
    try:
        import trimesh
    except ImportError as err:  # pragma: no cover - a dependency in pyproject.toml
        raise ImportError("official.data.shapes3d needs trimesh (pip install trimesh rtree)") from err
    return trimesh


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random (3, 3) rotation matrix (QR of a Gaussian matrix, sign-fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def primitive_mesh(kind: str, rng: np.random.Generator, rotate: bool = True):
    """A watertight trimesh of `kind` with random proportions, centred, longest side 1."""
    tm = _trimesh()
    if kind == "sphere":
        mesh = tm.creation.icosphere(subdivisions=3, radius=1.0)
        mesh.apply_scale(rng.uniform(0.7, 1.0, 3))  # an ellipsoid
    elif kind == "box":
        mesh = tm.creation.box(extents=rng.uniform(0.4, 1.0, 3))
    elif kind == "cylinder":
        mesh = tm.creation.cylinder(radius=rng.uniform(0.2, 0.5), height=rng.uniform(0.6, 1.2), sections=32)
    elif kind == "cone":
        mesh = tm.creation.cone(radius=rng.uniform(0.3, 0.6), height=rng.uniform(0.6, 1.2), sections=32)
    elif kind == "torus":
        major = rng.uniform(0.35, 0.5)
        mesh = tm.creation.torus(major_radius=major, minor_radius=rng.uniform(0.1, 0.2), major_sections=32,
                                 minor_sections=16)
    elif kind == "capsule":
        mesh = tm.creation.capsule(height=rng.uniform(0.4, 1.0), radius=rng.uniform(0.15, 0.35), count=[16, 16])
    else:
        raise ValueError(f"primitive_mesh: kind must be one of {PRIMITIVES}, got {kind!r}")
    if rotate:
        transform = np.eye(4)
        transform[:3, :3] = random_rotation(rng)
        mesh.apply_transform(transform)
    return normalise(mesh)


def normalise(mesh):
    """The mesh centred on its bounding box with its longest side scaled to 1 (ONet's ShapeNet frame)."""
    lo, hi = mesh.bounds
    mesh.apply_translation(-(lo + hi) / 2)
    mesh.apply_scale(1.0 / float(np.max(hi - lo)))
    return mesh


def sample_surface(mesh, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(count, 3) float32 points uniform on the surface (area-weighted) and their (count, 3) normals."""
    areas = mesh.area_faces
    faces = rng.choice(len(areas), size=count, p=areas / areas.sum())
    u, v = rng.random(count), rng.random(count)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    tri = mesh.triangles[faces]
    points = tri[:, 0] + u[:, None] * (tri[:, 1] - tri[:, 0]) + v[:, None] * (tri[:, 2] - tri[:, 0])
    return points.astype(np.float32), mesh.face_normals[faces].astype(np.float32)


def sample_occupancy(mesh, count: int, rng: np.random.Generator,
                     padding: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """(count, 3) float32 points uniform in the padded unit cube and their (count,) bool inside-ness.

    ONet samples its points.npz in [-0.55, 0.55]^3 (padding 0.1 around the unit cube).
    """
    half = 0.5 + padding / 2
    points = rng.uniform(-half, half, (count, 3)).astype(np.float32)
    return points, np.asarray(mesh.contains(points), dtype=bool)


def partial_view(points: np.ndarray, rng: np.random.Generator, keep: float = 0.5,
                 direction: np.ndarray | None = None) -> np.ndarray:
    """Indices of the `keep` fraction of points nearest a random viewing direction (a one-sided scan)."""
    if direction is None:
        direction = rng.normal(size=3)
    direction = direction / np.linalg.norm(direction)
    depth = points @ direction
    count = max(1, int(round(keep * len(points))))
    return np.argsort(-depth, kind="stable")[:count]


def dataset_meshes(classes: tuple[str, ...], per_class: int, seed: int):
    """[(class index, class name, mesh)] with `per_class` shapes of each primitive kind, reproducibly."""
    rng = np.random.default_rng(seed)
    return [(c, kind, primitive_mesh(kind, rng)) for c, kind in enumerate(classes) for _ in range(per_class)]

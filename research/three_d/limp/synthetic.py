"""A FAUST-2500-shaped fixture: 4 "subjects" x 3 "poses" of a capsule bent at a middle joint, shared faces.

Spec card limp.md, "Fixture": subjects differ by anisotropic scaling (a change of intrinsic metric), poses
bend the upper half by 0 / 30 / 60 degrees about the z axis through the joint (a near-isometry, smoothed
over one radius). The capsule is long along y (FAUST's vertical axis). 16 rings x 12 vertices + 2 poles =
194 vertices, 384 faces, one template connectivity; units are metres and the size is FAUST's (1.7 m long,
radius 0.2 m), so that the authors' loss weights (KL weight 1 against squared-distance losses in m^4) and heat
time t = 0.1 keep their balance.

`write_fixture` writes the meshes in the FAUST-2500 layout that official/data/faust.py reads:
raw/tr_reg_%03d_2000/{mesh.vert, mesh.triv} (the authors' text format, 1-based faces) or
raw/tr_reg_%03d_2000.off / .ply; index = subject * poses + pose, so identity = index // poses.
"""

from __future__ import annotations

import os

import numpy as np

SUBJECT_SCALES = ((1.0, 1.0, 1.0), (1.25, 0.9, 1.1), (0.85, 1.15, 0.9), (1.1, 1.05, 1.3))
POSE_DEGREES = (0.0, 30.0, 60.0)


def capsule_template(rings: int = 16, around: int = 12, length: float = 1.7, radius: float = 0.2):
    """(vertices (2 + rings * around, 3) float64, faces int32) of a closed, outward-oriented capsule along y."""
    cylinder = length - 2 * radius
    cap = 0.5 * np.pi * radius
    total = 2 * cap + cylinder
    s = total * np.arange(1, rings + 1) / (rings + 1)  # meridian arc length of each ring, poles excluded
    r = np.where(s < cap, radius * np.sin(s / radius),
                 np.where(s > cap + cylinder, radius * np.sin((total - s) / radius), radius))
    y = np.where(s < cap, -0.5 * cylinder - radius * np.cos(s / radius),
                 np.where(s > cap + cylinder, 0.5 * cylinder + radius * np.cos((total - s) / radius),
                          -0.5 * cylinder + (s - cap)))
    phi = 2 * np.pi * np.arange(around) / around
    ring_xyz = np.stack([r[:, None] * np.cos(phi), np.repeat(y[:, None], around, 1), r[:, None] * np.sin(phi)], -1)
    vertices = np.concatenate([[[0.0, -0.5 * length, 0.0]], ring_xyz.reshape(-1, 3), [[0.0, 0.5 * length, 0.0]]])
    top = 1 + rings * around

    def ring(k, j):
        return 1 + k * around + j % around

    faces = []
    for j in range(around):
        faces.append((0, ring(0, j), ring(0, j + 1)))
        faces.append((top, ring(rings - 1, j + 1), ring(rings - 1, j)))
        for k in range(rings - 1):
            faces.append((ring(k, j), ring(k + 1, j), ring(k + 1, j + 1)))
            faces.append((ring(k, j), ring(k + 1, j + 1), ring(k, j + 1)))
    faces = np.asarray(faces, np.int32)
    if signed_volume(vertices, faces) < 0:  # make the winding outward whatever the axis convention
        faces = faces[:, ::-1].copy()
    return vertices, faces


def signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    return float(np.sum(np.einsum("fi,fi->f", a, np.cross(b, c))) / 6.0)


def bend(vertices: np.ndarray, degrees: float, joint_width: float = 0.2) -> np.ndarray:
    """Rotates the part above y = 0 by `degrees` about z through the origin, ramped over |y| < joint_width."""
    y = vertices[:, 1]
    ramp = np.clip((y + joint_width) / (2 * joint_width), 0.0, 1.0)
    angle = np.deg2rad(degrees) * ramp * ramp * (3 - 2 * ramp)  # smoothstep
    c, s = np.cos(angle), np.sin(angle)
    x = vertices[:, 0]
    return np.stack([c * x - s * y, s * x + c * y, vertices[:, 2]], axis=-1)


def fixture_shapes(subjects: int = 4, poses: int = 3, scales=None, degrees=None, rings: int = 16,
                   around: int = 12):
    """(vertices (subjects * poses, V, 3) float64, faces (F, 3) int32, identity (subjects * poses,)).

    scales: (subjects, 3) per-subject axis scales (default: SUBJECT_SCALES, cycled); degrees: (poses,) bend
    angles shared by every subject, as FAUST's poses are (default: POSE_DEGREES, cycled).
    """
    template, faces = capsule_template(rings, around)
    if scales is None:
        scales = [SUBJECT_SCALES[s % len(SUBJECT_SCALES)] for s in range(subjects)]
    if degrees is None:
        degrees = [POSE_DEGREES[p % len(POSE_DEGREES)] for p in range(poses)]
    shapes, identity = [], []
    for subject in range(subjects):
        scaled = template * np.asarray(scales[subject])
        for pose in range(poses):
            shapes.append(bend(scaled, float(degrees[pose])))
            identity.append(subject)
    return np.stack(shapes), faces, np.asarray(identity, np.int32)


def random_subjects_and_poses(subjects: int, poses: int, seed: int = 0, scale_range=(0.8, 1.3),
                              max_degrees: float = 75.0):
    """FAUST-like draws: per-subject axis scales U(scale_range) (subject 0 = the unscaled capsule) and pose
    bend angles spread evenly over [0, max_degrees] with a random jitter, shared by all subjects."""
    rng = np.random.default_rng(seed)
    scales = rng.uniform(*scale_range, size=(subjects, 3))
    scales[0] = 1.0
    step = max_degrees / max(poses - 1, 1)
    degrees = np.clip(np.arange(poses) * step + rng.uniform(-0.25, 0.25, poses) * step, 0.0, max_degrees)
    degrees[0] = 0.0
    return scales, degrees


def _write_atomic(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_mesh_file(path: str, vertices: np.ndarray, faces: np.ndarray) -> None:
    """OFF or ASCII PLY by extension (written by hand so the fixture needs no mesh library)."""
    rows = "".join(f"{x:.9g} {y:.9g} {z:.9g}\n" for x, y, z in vertices)
    if path.endswith(".off"):
        tris = "".join(f"3 {a} {b} {c}\n" for a, b, c in faces)
        _write_atomic(path, f"OFF\n{len(vertices)} {len(faces)} 0\n{rows}{tris}")
    elif path.endswith(".ply"):
        head = (f"ply\nformat ascii 1.0\nelement vertex {len(vertices)}\nproperty float x\nproperty float y\n"
                f"property float z\nelement face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n")
        _write_atomic(path, head + rows + "".join(f"3 {a} {b} {c}\n" for a, b, c in faces))
    else:
        raise ValueError(f"{path}: unknown mesh extension (want .off or .ply)")


def write_fixture(root: str, fmt: str = "vert_triv", subjects: int = 4, poses: int = 3, scales=None, degrees=None,
                  rings: int = 16, around: int = 12) -> dict:
    """Writes root/raw/tr_reg_%03d_2000{/mesh.vert+mesh.triv | .off | .ply}; returns the arrays written.

    Mesh index = subject * poses + pose, so the reader's identity = index // poses_per_subject holds with
    poses_per_subject = poses (FAUST: 10 x 10). Other arguments: `fixture_shapes`.
    """
    vertices, faces, identity = fixture_shapes(subjects, poses, scales, degrees, rings, around)
    raw = os.path.join(root, "raw")
    os.makedirs(raw, exist_ok=True)
    for index, shape in enumerate(vertices):
        name = os.path.join(raw, f"tr_reg_{index:03d}_2000")
        if fmt == "vert_triv":
            os.makedirs(name, exist_ok=True)
            _write_atomic(os.path.join(name, "mesh.vert"), "".join(f"{x:.9g} {y:.9g} {z:.9g}\n" for x, y, z in shape))
            _write_atomic(os.path.join(name, "mesh.triv"), "".join(f"{a + 1} {b + 1} {c + 1}\n" for a, b, c in faces))
        elif fmt in ("off", "ply"):
            write_mesh_file(f"{name}.{fmt}", shape, faces)
        else:
            raise ValueError(f"fmt={fmt!r}: want 'vert_triv', 'off' or 'ply'")
    return dict(vertices=vertices, faces=faces, identity=identity)

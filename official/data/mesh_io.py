"""Triangle-mesh files (OBJ, PLY, OFF) through trimesh, and fixed-size padded mesh arrays (numpy, no TF).

- `load_mesh` keeps the file's vertex order and count (trimesh `process=False, maintain_order=True`: no
  merging of duplicates, no dropping of unreferenced vertices), because templates, correspondences and
  per-vertex labels index vertices by their position in the file. Polygons are fanned into triangles by
  trimesh; face order is the file's for OBJ and for all-triangle PLY / OFF (in a PLY / OFF file that mixes
  triangles and larger polygons, trimesh lists the triangles first). A missing path, an unknown extension,
  an unreadable file, a file without faces, a face index outside the vertices, or an ASCII PLY / OFF with
  fewer records than its header declares is a `MeshFileError` naming the file (one line at the CLI).
- `pad_mesh` makes the fixed shapes XLA and batching need: zero rows after the real vertices, faces padded
  with [0, 0, 0] (degenerate: zero normal and area, no edges in `mesh_ops.neighbour_lists`) and masks.
- `write_mesh` writes a temp name in the same folder and renames it, so a reader never sees half a file.
"""

from __future__ import annotations

import os

import numpy as np
import trimesh

from official.core.errors import BadValueError, UserError

MESH_EXTENSIONS = ("obj", "ply", "off")


class MeshFileError(UserError, ValueError):
    """A mesh file is missing or unreadable; the message names the file and what is wrong."""


def _extension(path: str) -> str:
    ext = os.path.splitext(str(path))[1].lower().lstrip(".")
    if ext not in MESH_EXTENSIONS:
        raise MeshFileError(f"{path}: unknown mesh extension {ext!r}, expected one of {MESH_EXTENSIONS}")
    return ext


def _data_lines(lines: list[bytes]) -> int:
    return sum(1 for line in lines if line.strip() and not line.lstrip().startswith(b"#"))


def _check_declared_counts(path: str, ext: str, num_vertices: int) -> None:
    """PLY (ASCII) and OFF files declare their vertex and face counts; trimesh silently reads a truncated
    ASCII file as a smaller mesh, so the records present are counted against the header here."""
    if ext == "obj":
        return
    with open(path, "rb") as f:
        raw = f.read()
    if ext == "ply":
        head, sep, body = raw.partition(b"end_header")
        if not sep or b"format ascii" not in head:
            return  # binary PLY: trimesh checks the byte length itself
        counts = {}
        for line in head.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == b"element" and parts[2].isdigit():
                counts[parts[1].decode("ascii", "replace")] = int(parts[2])
        declared_v, declared_f = counts.get("vertex", 0), counts.get("face", 0)
        records = _data_lines(body.splitlines()[1:])
        expected = sum(counts.values())
    else:
        lines = [line for line in raw.splitlines() if line.strip() and not line.lstrip().startswith(b"#")]
        tokens = lines[0].split()[1:] if lines and lines[0].split()[0].upper().endswith(b"OFF") else []
        if len(tokens) < 2:  # counts on their own line after "OFF"
            tokens, lines = (lines[1].split() if len(lines) > 1 else []), lines[1:]
        declared_v, declared_f = int(tokens[0]), int(tokens[1])
        records, expected = len(lines) - 1, declared_v + declared_f
    if records < expected or num_vertices != declared_v:
        raise MeshFileError(f"{path}: header declares {declared_v} vertices and {declared_f} faces, the file "
                            f"holds {records} of {expected} records (truncated?)")  # fmt: skip


def load_mesh(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(vertices float32 (V, 3), faces int32 (F, 3)) of an OBJ / PLY / OFF file, in the file's vertex order."""
    path = os.fspath(path)
    ext = _extension(path)
    if not os.path.isfile(path):
        raise MeshFileError(f"{path}: no such mesh file")
    try:
        mesh = trimesh.load(path, file_type=ext, process=False, maintain_order=True)
    except Exception as exc:  # trimesh raises ValueError, IndexError, KeyError, ... on malformed files
        raise MeshFileError(f"{path}: unreadable {ext.upper()} file ({type(exc).__name__}: {exc})") from exc
    _check_declared_counts(path, ext, len(getattr(mesh, "vertices", ())))
    if isinstance(mesh, trimesh.Scene):
        meshes = [g for g in mesh.geometry.values() if isinstance(g, trimesh.Trimesh)]
        mesh = trimesh.util.concatenate(meshes) if meshes else None
    if not isinstance(mesh, trimesh.Trimesh):
        kind = type(mesh).__name__ if mesh is not None else "no geometry"
        raise MeshFileError(f"{path}: faces: no triangle faces in the file ({kind})")
    vertices = np.asarray(mesh.vertices, dtype=np.float32).reshape(-1, 3)
    faces = np.asarray(mesh.faces, dtype=np.int64).reshape(-1, 3)
    if len(vertices) == 0 or len(faces) == 0:
        raise MeshFileError(f"{path}: faces: {len(vertices)} vertices and {len(faces)} faces, need both")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise MeshFileError(f"{path}: faces: index {faces.max()} outside the {len(vertices)} vertices")
    if not np.all(np.isfinite(vertices)):
        raise MeshFileError(f"{path}: vertices: non-finite coordinates")
    return vertices, faces.astype(np.int32)


def pad_mesh(vertices, faces, max_vertices: int, max_faces: int) -> dict[str, np.ndarray]:
    """Fixed-size arrays: vertices (max_vertices, 3) float32, faces (max_faces, 3) int32, vertex_mask
    (max_vertices,) and face_mask (max_faces,) float32 (1 = real), num_vertices and num_faces int32."""
    vertices = np.asarray(vertices, dtype=np.float32).reshape(-1, 3)
    faces = np.asarray(faces, dtype=np.int32).reshape(-1, 3)
    v, f = len(vertices), len(faces)
    if v > max_vertices:
        raise BadValueError(f"pad_mesh: max_vertices={max_vertices} is below the mesh's {v} vertices")
    if f > max_faces:
        raise BadValueError(f"pad_mesh: max_faces={max_faces} is below the mesh's {f} faces")
    out = {
        "vertices": np.zeros((max_vertices, 3), np.float32),
        "faces": np.zeros((max_faces, 3), np.int32),
        "vertex_mask": (np.arange(max_vertices) < v).astype(np.float32),
        "face_mask": (np.arange(max_faces) < f).astype(np.float32),
        "num_vertices": np.int32(v),
        "num_faces": np.int32(f),
    }
    out["vertices"][:v] = vertices
    out["faces"][:f] = faces
    return out


def write_mesh(path: str, vertices, faces) -> str:
    """Writes an OBJ / PLY (binary) / OFF file by its extension, via a temp name and a rename; returns path."""
    path = os.fspath(path)
    ext = _extension(path)
    mesh = trimesh.Trimesh(vertices=np.asarray(vertices, dtype=np.float64).reshape(-1, 3),
                           faces=np.asarray(faces, dtype=np.int64).reshape(-1, 3), process=False)  # fmt: skip
    data = mesh.export(file_type=ext)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path

"""Differentiable all-pairs geodesic distances on a triangle mesh by the heat method (keras.ops).

Crane, Weischedel & Wardetzky, "Geodesics in Heat" (TOG 2013), as LIMP (Cosmo et al., ECCV 2020) uses it
as a loss on decoded meshes: every step is a dense linear solve, so the distance matrix is differentiable
with respect to the vertex positions. Cost is O(V^3) per mesh: meant for V up to a few thousand.

Conventions (spec card limp.md, "Differentiable geodesics"):
- `W` is the cotangent stiffness matrix with the sign of the authors' `LBO_slim`: positive semi-definite,
  W_ij = -(cot a_ij + cot b_ij) / 2 off the diagonal, rows summing to 0 (W = -L of Crane's paper).
- `areas` are lumped (barycentric) vertex areas: one third of each incident triangle's area.
- Heat step: (diag(areas) + t W) u = delta_s for every source s at once (u = columns of a solve with I).
- Poisson step: W phi = G^T M_F X with X = -grad u / |grad u| per face (the least-squares fit of
  grad phi to X); W is singular (constants), so we solve (W + 1 1^T / V) phi = b, which has the same
  solution up to a constant because b's columns sum to zero exactly.
- D_ij = phi_ij - phi_jj (column j = source j, zero diagonal), then (D + D^T) / 2 as in the authors' code.
Degenerate triangles: `eps` is added to every doubled face area before dividing, and cotangents are
clipped to +-`cot_clip` (spec card "Hard parts"). Works in float32 and float64 (pass float64 vertices).
"""

from __future__ import annotations

import numpy as np
from keras import ops

_CORNERS = ((0, 1, 2), (1, 2, 0), (2, 0, 1))  # (corner i, then the opposite edge's j -> k, counter-clockwise)


def _corner_vectors(vertices, faces):
    """Per face: corner positions p (F, 3, 3) and the doubled-area normal c = (p1 - p0) x (p2 - p0) (F, 3)."""
    faces = ops.convert_to_tensor(faces, dtype="int32")
    p = ops.take(vertices, faces, axis=0)  # (F, 3 corners, 3 xyz)
    c = ops.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    return faces, p, c


def _doubled_area(c, eps):
    return ops.sqrt(ops.sum(c * c, axis=-1) + eps * eps) + eps


def cotangent_laplacian(vertices, faces, eps: float = 1e-8, cot_clip: float = 1e4):
    """Cotangent stiffness matrix and lumped areas of a triangle mesh.

    Args:
      vertices: (V, 3) float32 or float64.
      faces: (F, 3) int vertex indices, consistently oriented.
      eps: added to doubled triangle areas (degenerate decoded triangles).
      cot_clip: cotangents are clipped to [-cot_clip, cot_clip].
    Returns:
      W (V, V) dense, positive semi-definite, zero row sums; areas (V,) lumped vertex areas.
    """
    num_vertices = int(vertices.shape[0])
    faces, p, c = _corner_vectors(vertices, faces)
    two_area = _doubled_area(c, eps)  # (F,)
    rows, cols, vals = [], [], []
    for i, j, k in _CORNERS:
        a = p[:, j] - p[:, i]
        b = p[:, k] - p[:, i]
        # cot of the angle at corner i = (a . b) / |a x b|; |a x b| is the doubled area for every corner.
        cot = ops.clip(ops.sum(a * b, axis=-1) / two_area, -cot_clip, cot_clip)
        half = 0.5 * cot
        fj, fk = faces[:, j], faces[:, k]
        rows += [fj, fk, fj, fk]
        cols += [fk, fj, fj, fk]
        vals += [-half, -half, half, half]
    flat = ops.concatenate([r * num_vertices + q for r, q in zip(rows, cols, strict=False)], axis=0)
    w = ops.segment_sum(ops.concatenate(vals, axis=0), flat, num_segments=num_vertices * num_vertices)
    w = ops.reshape(w, (num_vertices, num_vertices))
    face_third = ops.repeat(ops.expand_dims(two_area / 6.0, -1), 3, axis=1)  # area / 3 per corner
    areas = ops.segment_sum(ops.reshape(face_third, (-1,)), ops.reshape(faces, (-1,)), num_segments=num_vertices)
    return w, areas


def _gradient_basis(p, c, eps):
    """grad of the hat function of corner i on each face: c x e_i / |c|^2, e_i the edge opposite i. (F, 3, 3)."""
    denom = ops.expand_dims(ops.sum(c * c, axis=-1) + eps * eps, -1)
    basis = [ops.cross(c, p[:, k] - p[:, j]) / denom for _, j, k in _CORNERS]
    return ops.stack(basis, axis=1)


def mean_edge_length(vertices, faces):
    """Mean length over the face edges (each interior edge counted twice): h of Crane's t = h^2."""
    _, p, _ = _corner_vectors(vertices, faces)
    e = ops.concatenate([p[:, 1] - p[:, 0], p[:, 2] - p[:, 1], p[:, 0] - p[:, 2]], axis=0)
    return ops.mean(ops.sqrt(ops.sum(e * e, axis=-1)))


def heat_geodesics(vertices, faces, t=None, eps: float = 1e-8, cot_clip: float = 1e4):
    """All-pairs geodesic distances (V, V), symmetric with an exact zero diagonal; differentiable in `vertices`.

    Args:
      vertices: (V, 3) float32 / float64 (float64 recommended for V > ~500).
      faces: (F, 3) int, consistently oriented, one connected component.
      t: heat time; None = Crane's h^2 (mean edge length squared, in the mesh's units). LIMP uses 0.1 on
        FAUST in metres.
    """
    vertices = ops.convert_to_tensor(vertices)
    dtype = vertices.dtype
    num_vertices = int(vertices.shape[0])
    w, areas = cotangent_laplacian(vertices, faces, eps=eps, cot_clip=cot_clip)
    if t is None:
        t = ops.square(mean_edge_length(vertices, faces))
    eye = ops.eye(num_vertices, dtype=dtype)
    heat = ops.solve(ops.diag(areas) + t * w, eye)  # column s: heat spread from vertex s, (V, S)
    faces_t, p, c = _corner_vectors(vertices, faces)
    basis = _gradient_basis(p, c, eps)  # (F, 3 corners, 3 xyz)
    grad = ops.einsum("fix,fis->fxs", basis, ops.take(heat, faces_t, axis=0))  # (F, 3, S)
    field = -grad / ops.sqrt(ops.sum(grad * grad, axis=1, keepdims=True) + 1e-24)
    # b_i = sum_f area_f grad(hat_i) . X_f  (G^T M_F X), scattered from corners to vertices.
    half_area = ops.reshape(0.5 * _doubled_area(c, eps), (-1, 1, 1))
    per_corner = half_area * ops.einsum("fix,fxs->fis", basis, field)  # (F, 3, S)
    rhs = ops.segment_sum(ops.reshape(per_corner, (-1, num_vertices)), ops.reshape(faces_t, (-1,)),
                          num_segments=num_vertices)
    pinned = w + ops.ones((num_vertices, num_vertices), dtype=dtype) / num_vertices
    phi = ops.solve(pinned, rhs)  # (V, S), column s = distance from s up to a constant
    d = phi - ops.expand_dims(ops.diagonal(phi), 0)
    return 0.5 * (d + ops.transpose(d))


def edge_graph_distances(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Dijkstra on the mesh edge graph (numpy/scipy): an upper bound of the surface geodesic distance."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    vertices = np.asarray(vertices, np.float64)
    faces = np.asarray(faces, np.int64)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]], axis=0)
    edges = np.unique(np.sort(edges, axis=1), axis=0)  # coo_matrix would sum a repeated edge
    lengths = np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1)
    n = len(vertices)
    graph = coo_matrix((lengths, (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    return dijkstra(graph, directed=False)

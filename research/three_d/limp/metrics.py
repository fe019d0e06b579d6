"""LIMP's evaluation (spec card limp.md, "Metrics"): reconstruction, interpolation and disentanglement.

numpy + the heat geodesics of official/ops (float64), on callables `encode(points) -> mu` and
`decode(z) -> vertices`, so that a Keras network and an exported SavedModel are scored by one code path.
- rec_metric_loss: the training metric loss (mean over pairs of squared-distance differences^2, m^4);
- aligned_error_mm: mean vertex distance after the best rigid motion (or reflection: the metric loss fixes a
  shape only up to one) of the reconstruction onto the input, in mm (the card's vertex distance);
- interp_geodesic_distortion: decoded mid-point of two latent codes against the mean of the end points'
  geodesic matrices, mean |Dg(x) - Dg_t| / mean Dg_t (linear_vertex_interp_distortion: the same for the
  vertex-space average, a reference that ignores the metric);
- pose_interp_isometry: pose dims mixed half-way, style of A kept: mean |Dg(x) - Dg_A| / mean Dg_A;
- style_interp_euclidean: style dims mixed half-way, pose of A kept: mean |De(x) - De_A| / mean De_A.
Pairs are neighbouring evaluation meshes (i, i + 1): poses of one subject and, at subject changes, two subjects.
"""

from __future__ import annotations

import numpy as np


def aligned_vertex_error(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean |R p + t - q| over vertices for the best orthogonal R (rotation or reflection) and translation t."""
    p = pred - pred.mean(0)
    q = target - target.mean(0)
    u, _, vt = np.linalg.svd(p.T @ q)
    return float(np.linalg.norm(p @ (u @ vt) - q, axis=1).mean())


def metric_loss(points: np.ndarray, reconstruction: np.ndarray) -> float:
    """Per shape: mean over vertex pairs of (|x_i - x_j|^2 - |r_i - r_j|^2)^2 (the training loss, numpy float64)."""
    def sq(x):
        x = np.asarray(x, np.float64)
        return np.sum((x[:, None] - x[None]) ** 2, axis=-1)

    return float(np.mean((sq(points) - sq(reconstruction)) ** 2))


def _distances(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x[:, None] - x[None], axis=-1)


def _relative(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).mean() / want.mean())


def evaluate_shapes(encode, decode, vertices: np.ndarray, geodesics: np.ndarray, faces: np.ndarray,
                    pose_size: int, heat_t: float | None = 0.1, pairs: int = 0) -> dict[str, float]:
    """The metrics above for shapes (M, N, 3) with their target geodesic matrices (M, N, N)."""
    from official.ops.heat_geodesics import heat_geodesics

    def geo(x):
        return np.asarray(heat_geodesics(np.asarray(x, np.float64), faces, t=heat_t))

    vertices = np.asarray(vertices, np.float32)
    mu = np.asarray(encode(vertices))
    rec = np.asarray(decode(mu))
    out = {"shapes": float(len(vertices)),
           "rec_metric_loss": float(np.mean([metric_loss(v, r) for v, r in zip(vertices, rec, strict=True)]))}
    errors = [aligned_vertex_error(r, v) for r, v in zip(rec, vertices, strict=True)]
    out.update(aligned_error_mm=1000 * float(np.mean(errors)), aligned_error_max_mm=1000 * float(np.max(errors)))
    count = len(vertices) - 1 if pairs <= 0 else min(pairs, len(vertices) - 1)
    if count < 1:
        return out
    rows = {k: [] for k in ("interp_geodesic_distortion", "linear_vertex_interp_distortion", "pose_interp_isometry",
                            "style_interp_euclidean")}
    for i in range(count):
        z_a, z_b = mu[i : i + 1], mu[i + 1 : i + 2]
        half = 0.5 * (z_a + z_b)
        pose = np.concatenate([half[:, :pose_size], z_a[:, pose_size:]], axis=-1)
        style = np.concatenate([z_a[:, :pose_size], half[:, pose_size:]], axis=-1)
        mid, pose_x, style_x = np.asarray(decode(np.concatenate([half, pose, style]).astype(np.float32)))
        target = 0.5 * (geodesics[i] + geodesics[i + 1])
        rows["interp_geodesic_distortion"].append(_relative(geo(mid), target))
        rows["linear_vertex_interp_distortion"].append(_relative(geo(0.5 * (vertices[i] + vertices[i + 1])), target))
        rows["pose_interp_isometry"].append(_relative(geo(pose_x), geodesics[i]))
        rows["style_interp_euclidean"].append(_relative(_distances(style_x), _distances(vertices[i])))
    out.update({k: float(np.mean(v)) for k, v in rows.items()})
    out["interp_pairs"] = float(count)
    return out

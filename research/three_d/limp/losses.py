"""LIMP's metric-preservation losses and the step-driven weight schedule (keras.ops; train_FAUST.py facts).

Shapes: points (batch, N, 3); distance matrices (batch, N, N) or (N, N); faces (F, 3) shared by all shapes.
- reconstruction: mean over all pairs of (|x_i - x_j|^2 - |r_i - r_j|^2)^2 - the authors' `pairwise_dists`
  returns SQUARED distances (misc_utils.py), so the global term compares squared distance matrices - plus
  KL = 0.5 mean(exp(logvar) + mu^2 - 1 - logvar).
- interpolation (a in U(0, 1), z_t = a z_A + (1 - a) z_B): geodesic term mean (Dg_t - Dg(x_t))^2 with Dg(x_t)
  by the differentiable heat method; local Euclidean term over pairs with Dg_t < 0.1 max(Dg_t) of
  ((De_t - De(x_t)) / (De_t + 1e-3))^2, averaged over those pairs.
- disentanglement: intra-subject (style interpolated, pose of A kept) mean ((De_A - De(x_t)) / (De_A + 1e-3))^2;
  inter-subject (pose interpolated, style of A kept) mean (Dg_A - Dg(x_t))^2.
- total = rec + 0.1 interp + 10 (intra + inter), with the stage weights of `stage_weights`.
"""

from __future__ import annotations

from keras import ops

from official.ops.heat_geodesics import heat_geodesics

LOCAL_THRESHOLD = 0.1  # opt.LOCAL_TH: "local" pairs have Dg_t < 0.1 max(Dg_t)
RELATIVE_EPS = 1e-3  # denominators of the relative Euclidean distortions
# (first outer iteration of a stage, interp geo, interp euc, intra euc, inter geo): train_FAUST.py's schedule,
# where the weights of a stage hold for outer iterations i > start (20 inner steps per outer iteration).
STAGES = (
    (0, 0.0, 0.0, 0.0, 0.0),  # it 0-7,000: reconstruction only
    (7000, 0.0, 10.0, 10.0, 0.0),  # local Euclidean interpolation + intra-subject disentanglement
    (10000, 1e-2, 100.0, 10.0, 10.0),  # geodesics switched on
    (15000, 1e-3, 100.0, 1.0, 1.0),  # favour the local Euclidean term again
)


def pairwise_differences(points):
    """(batch, N, N, 3) x_i - x_j: exact (no |x|^2 - 2 x.y + |y|^2 cancellation), O(N^2) memory."""
    return ops.expand_dims(points, 2) - ops.expand_dims(points, 1)


def squared_distances(points):
    return ops.sum(ops.square(pairwise_differences(points)), axis=-1)


def euclidean_distances(points):
    """(batch, N, N) |x_i - x_j| with a zero-safe gradient on the diagonal (double `where`)."""
    sq = squared_distances(points)
    positive = sq > 1e-20
    return ops.where(positive, ops.sqrt(ops.where(positive, sq, ops.ones_like(sq))), ops.zeros_like(sq))


def reconstruction_metric_loss(points, reconstruction):
    """mean over pairs of (squared distance difference)^2 (the authors' global metric loss)."""
    return ops.mean(ops.square(squared_distances(points) - squared_distances(reconstruction)))


def kl_loss(mu, logvar):
    return 0.5 * ops.mean(ops.exp(logvar) + ops.square(mu) - 1.0 - logvar)


def local_euclidean_loss(target_geodesic, target_euclidean, points, threshold: float = LOCAL_THRESHOLD):
    """Relative distortion of the decoded distances over pairs that are geodesically local in the target."""
    max_geo = ops.max(target_geodesic, axis=(-2, -1), keepdims=True)
    mask = ops.cast(target_geodesic < threshold * max_geo, points.dtype)
    rel = (target_euclidean - euclidean_distances(points)) / (target_euclidean + RELATIVE_EPS)
    return ops.sum(mask * ops.square(rel)) / ops.maximum(ops.sum(mask), 1.0)


def relative_euclidean_loss(target_euclidean, points):
    rel = (target_euclidean - euclidean_distances(points)) / (target_euclidean + RELATIVE_EPS)
    return ops.mean(ops.square(rel))


def geodesic_loss(target_geodesic, points, faces, t=0.1):
    """mean (Dg_target - Dg(points))^2 over a static batch; Dg by the heat method in float64 (t: LIMP's 0.1)."""
    losses = []
    for b in range(int(points.shape[0])):
        d = heat_geodesics(ops.cast(points[b], "float64"), faces, t=t)
        losses.append(ops.mean(ops.square(ops.cast(target_geodesic[b], "float64") - d)))
    return ops.cast(ops.mean(ops.stack(losses)), points.dtype)


def interpolate(z_a, z_b, alpha, pose_size: int, part: str = "all"):
    """a z_A + (1 - a) z_B on all dims, on the pose dims only (style of A kept) or on the style dims only."""
    mixed = alpha * z_a + (1.0 - alpha) * z_b
    if part == "all":
        return mixed
    if part == "pose":
        return ops.concatenate([mixed[:, :pose_size], z_a[:, pose_size:]], axis=-1)
    if part == "style":
        return ops.concatenate([z_a[:, :pose_size], mixed[:, pose_size:]], axis=-1)
    raise ValueError(f"part={part!r}: want 'all', 'pose' or 'style'")


def stage_weights(step, steps_per_iteration: int = 20, stage_starts=None):
    """Loss weights at optimizer step `step` (a tensor), chosen by `where` so a compiled step can use them.

    Returns dict(interp_geo, interp_euc, intra_euc, inter_geo). A stage holds for outer iterations
    `it = step // steps_per_iteration` with it > start (the authors' `i > 7000 and i <= 10000`).
    stage_starts: override of (7000, 10000, 15000) for short runs.
    """
    starts = tuple(s[0] for s in STAGES[1:]) if stage_starts is None else tuple(stage_starts)
    iteration = ops.floor_divide(ops.cast(step, "int64"), steps_per_iteration)
    names = ("interp_geo", "interp_euc", "intra_euc", "inter_geo")
    weights = {name: ops.convert_to_tensor(0.0, "float32") for name in names}
    for start, stage in zip(starts, STAGES[1:], strict=False):
        active = iteration > start
        for name, value in zip(names, stage[1:], strict=False):
            weights[name] = ops.where(active, ops.convert_to_tensor(value, "float32"), weights[name])
    return weights


def total_loss(rec, interp, intra, inter):
    """L_rec + 0.1 L_interp + 10 (L_intra + L_inter) (train_FAUST.py), each term already weighted by stage."""
    return rec + 0.1 * interp + 10.0 * (intra + inter)

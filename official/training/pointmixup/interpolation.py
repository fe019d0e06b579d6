"""PointMixup's EMD-optimal interpolation, mixing ratios, soft labels and symmetry alignment (keras.ops).

Chen et al., ECCV 2020 (yunlu-chen/PointMixup; facts from `pointnet2_msg_cls.py` Pointnet2MSG_manimix and
`pytorch_utils.Trainer_mix`):
- phi* = the optimal assignment (EMD) between S1 = {x_i} and S2 = {y_j}; S_lambda = {(1 - lambda) x_i +
  lambda y_phi*(i)}: a shortest path between S1 and S2 under EMD, invariant to the point order of either set;
- per example, mixrate = 0.5 - |Beta(alpha, alpha) - 0.5| in [0, 0.5] is the weight of the partner ("minor"),
  the partner is the example at a random batch permutation; label = (1 - mixrate) onehot(c1) + mixrate
  onehot(c2), or onehot(c1) when c1 == c2;
- hidden features (manifold PointMixup) are mixed with the same assignment and ratio as their points;
- alignment: each shape's vertical symmetry plane is the reflection angle theta in {i pi / 60} about y
  whose reflected copy is nearest in Chamfer distance; the partner is rotated about y by the difference of the
  two angles for the assignment only (the UNROTATED partner is mixed, as the official code does).
The assignment is official/losses/emd.emd_assignment (an eps-scaled auction like MSN's emdModule, eps 0.0025).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from official.losses.chamfer import chamfer_distance
from official.losses.emd import emd_assignment
from official.ops.point_ops import gather_points

SYMMETRY_ANGLES = 60  # reflection planes tested, theta = i * pi / 60


def gamma_sample(batch, shape: float, seed=None, candidates: int = 16):
    """(batch,) Gamma(shape, 1) draws by Marsaglia-Tsang from normals and uniforms only.

    keras.random.beta lowers to a gamma kernel that XLA on CPU lacks, so the training step could not be
    compiled; this rejection sampler takes the first accepted of `candidates` proposals per draw (each accepted
    with probability > 0.95 for shape >= 1, so a miss is < 1e-20) and boosts shape < 1 by U^(1/shape).
    """
    boosted = shape < 1.0
    a = shape + 1.0 if boosted else shape
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    x = keras.random.normal((candidates, batch), seed=seed)
    u = keras.random.uniform((candidates, batch), seed=seed)
    v = ops.maximum(1.0 + c * x, 1e-6) ** 3
    ok = ops.logical_and(1.0 + c * x > 0.0, ops.log(u) < 0.5 * x * x + d - d * v + d * ops.log(v))
    first = ops.argmax(ops.cast(ok, "int32"), axis=0)  # the first accepted proposal (0 if none: negligible)
    draw = ops.take_along_axis(d * v, first[None, :], axis=0)[0]
    if boosted:
        draw = draw * keras.random.uniform((batch,), minval=1e-12, maxval=1.0, seed=seed) ** (1.0 / shape)
    return draw


def beta_sample(batch, alpha: float, seed=None):
    """(batch,) Beta(alpha, alpha) = G1 / (G1 + G2) of two Gamma(alpha) draws."""
    g1, g2 = gamma_sample(batch, alpha, seed), gamma_sample(batch, alpha, seed)
    return g1 / ops.maximum(g1 + g2, 1e-30)


def mixrates(alpha: float, batch, seed=None):
    """(batch,) 0.5 - |Beta(alpha, alpha) - 0.5|: the partner's weight, always in [0, 0.5]."""
    return 0.5 - ops.abs(beta_sample(batch, alpha, seed) - 0.5)


def batch_permutation(batch, seed=None):
    """(batch,) int32 random permutation (torch.randperm)."""
    return ops.cast(ops.argsort(keras.random.uniform((batch,), seed=seed)), "int32")


def mixed_labels(labels, perm, mixrate, num_classes: int):
    """(B, num_classes) soft targets: (1 - r) onehot(y) + r onehot(y[perm]); onehot(y) where both agree."""
    labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
    partner = ops.take(labels, perm, axis=0)
    rate = ops.where(ops.equal(labels, partner), 0.0, ops.cast(mixrate, "float32"))[:, None]
    return (1.0 - rate) * ops.one_hot(labels, num_classes) + rate * ops.one_hot(partner, num_classes)


def soft_cross_entropy(targets, logits):
    """(B,) -sum_c y_c log softmax(logits)_c (the repo's cross_entropy_with_probs, before the batch mean)."""
    return -ops.sum(targets * ops.log_softmax(ops.cast(logits, "float32"), axis=-1), axis=-1)


def interpolate(a, b_matched, rate):
    """(1 - rate) a + rate b_matched, rate (B,) broadcast over points and channels."""
    rate = ops.cast(rate, a.dtype)[:, None, None]
    return (1.0 - rate) * a + rate * b_matched


def y_reflections(theta):
    """(..., 3, 3) matrices R with x @ R the reflection of row vectors x across the vertical plane at angle theta
    (the official `refl`: [[1 - 2 sin^2, 0, 2 sin cos], [0, 1, 0], [2 sin cos, 0, 1 - 2 cos^2]])."""
    s, c = ops.sin(theta), ops.cos(theta)
    zero, one = ops.zeros_like(theta), ops.ones_like(theta)
    rows = [ops.stack([1 - 2 * s * s, zero, 2 * s * c], -1), ops.stack([zero, one, zero], -1),
            ops.stack([2 * s * c, zero, 1 - 2 * c * c], -1)]
    return ops.stack(rows, -2)


def y_rotations(theta):
    """(..., 3, 3) R with x @ R the official alignment rotation: [[cos, 0, sin], [0, 1, 0], [-sin, 0, cos]] of theta."""
    s, c = ops.sin(theta), ops.cos(theta)
    zero, one = ops.zeros_like(theta), ops.ones_like(theta)
    rows = [ops.stack([c, zero, s], -1), ops.stack([zero, one, zero], -1), ops.stack([-s, zero, c], -1)]
    return ops.stack(rows, -2)


def symmetry_angles(xyz, count: int = SYMMETRY_ANGLES, chunk: int = 12):
    """(B,) theta = i pi / count minimising Chamfer(xyz, xyz reflected at theta); the first on a tie.

    The angles are evaluated `chunk` at a time as one batched Chamfer (a static loop of count / chunk steps:
    a 60-step graph loop of small Chamfers cost ~15x more per training step on 2 cores).
    """
    xyz = ops.stop_gradient(ops.cast(xyz, "float32"))
    batch, n = ops.shape(xyz)[0], xyz.shape[1]
    scores = []
    for start in range(0, count, chunk):
        size = min(chunk, count - start)
        theta = (start + ops.arange(size, dtype="float32")) * (math.pi / count)  # (k,)
        reflected = ops.einsum("bnj,kji->bkni", xyz, y_reflections(theta))  # (B, k, N, 3)
        tiled = ops.broadcast_to(xyz[:, None], (batch, size, n, 3))
        cd = chamfer_distance(ops.reshape(tiled, (-1, n, 3)), ops.reshape(reflected, (-1, n, 3)))
        scores.append(ops.reshape(cd, (batch, size)))
    index = ops.argmin(ops.concatenate(scores, axis=1), axis=1)
    return ops.cast(index, "float32") * (math.pi / count)


def aligned_partner(xyz, partner_xyz, perm, count: int = SYMMETRY_ANGLES):
    """The partner rotated about y by -(theta_partner - theta_self) (official `rota`, applied as x @ R)."""
    thetas = symmetry_angles(xyz, count)
    diff = ops.take(thetas, perm, axis=0) - thetas
    return ops.matmul(ops.cast(partner_xyz, "float32"), y_rotations(-diff))


def _hungarian_batch(a, b):
    """(B, N) int32 exact EMD assignments of numpy batches (scipy linear_sum_assignment, Euclidean cost)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    out = np.zeros(a.shape[:2], np.int32)
    for i in range(len(a)):
        rows, cols = linear_sum_assignment(cdist(a[i], b[i]))
        out[i, rows] = cols
    return out


def hungarian_assignment(a, b):
    """The exact assignment, computed on the host (scipy): no XLA, but ~1 ms for 16 pairs of 64 points where the
    in-graph auction needs seconds on 2 CPU cores. TensorFlow: tf.numpy_function; JAX: jax.pure_callback."""
    backend = keras.backend.backend()
    a, b = ops.stop_gradient(ops.cast(a, "float32")), ops.stop_gradient(ops.cast(b, "float32"))
    if backend == "tensorflow":
        import tensorflow as tf

        out = tf.numpy_function(_hungarian_batch, [a, b], tf.int32, stateful=False)
        out.set_shape(a.shape[:2])
        return out
    if backend == "jax":
        import jax

        return jax.pure_callback(_hungarian_batch, jax.ShapeDtypeStruct(a.shape[:2], "int32"), a, b)
    raise ValueError(f"hungarian_assignment: no host callback for backend {backend!r}; use the auction")


ASSIGNMENTS = ("auction", "hungarian")


def pointmixup(xyz, features, perm, rate, align: bool = False, iterations: int = 6000, assignment=None,
               method: str = "auction"):
    """EMD-optimal interpolation of each example with its partner `perm[b]`.

    xyz (B, N, 3), features (B, N, C) or None, perm (B,) int, rate (B,) partner weight.
    Returns (mixed xyz, mixed features or None, assignment (B, N) int32 with xyz[b, i] matched to
    partner[b, assignment[b, i]]). `assignment` given: used as is; else `method` finds it: auction (in-graph,
    official/losses/emd) or hungarian (exact, host-side scipy).
    """
    if method not in ASSIGNMENTS:
        raise ValueError(f"pointmixup: assignment method must be one of {ASSIGNMENTS}, got {method!r}")
    partner_xyz = ops.take(xyz, perm, axis=0)
    if assignment is None:
        target = aligned_partner(xyz, partner_xyz, perm) if align else partner_xyz
        if method == "hungarian":
            assignment = hungarian_assignment(xyz, target)
        else:
            assignment = emd_assignment(xyz, target, iterations=iterations)
    assignment = ops.stop_gradient(ops.cast(assignment, "int32"))
    mixed_xyz = interpolate(xyz, gather_points(partner_xyz, assignment), rate)
    if features is None:
        return mixed_xyz, None, assignment
    partner_features = gather_points(ops.take(features, perm, axis=0), assignment)
    return mixed_xyz, interpolate(features, partner_features, rate), assignment

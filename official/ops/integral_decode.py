"""Integral (soft-argmax) decoding of 2D heatmaps and 3D volumetric heatmaps, and heatmap-weighted pooling.

Integral regression (Sun et al., ECCV 2018) as 3DMPPE PoseNet computes it (`main/model.py` soft_argmax,
read for the facts): the network's (B, J*D, H, W) output is reshaped to (B, J, D*H*W), softmax-normalised
over all voxels of a joint, reshaped to (B, J, D, H, W) and the marginals are integrated against
arange(1, n + 1) minus 1, i.e. the voxel indices 0..W-1, 0..H-1, 0..D-1. So:
- channel index = j * D + d (joint-major, depth-minor); our channels-last input is (B, H, W, J*D);
- coordinates are in voxel units with voxel CENTRES at integer coordinates (a one-hot voxel (x, y, z)
  decodes to exactly (x, y, z); a heatmap's pixel i covers [i - 0.5, i + 0.5]);
- the output is (x, y, z): x along width, y along height, z along depth bins.
`beta` multiplies the logits before the softmax (a large beta approaches the hard argmax).
All maths runs in float32; the softmax subtracts the per-joint maximum before exponentiating, so
J x 64^3 volumes of large logits neither overflow nor underflow to a zero sum.

Depth bins <-> millimetres (3DMPPE: `bbox_3d_shape` = 2000 mm, `depth_dim` = 64): a root-relative depth
z_mm maps to bins (z_mm / (range / 2) + 1) / 2 * D, and back z_mm = (z / D * 2 - 1) * range / 2.

Only keras.ops: runs under TensorFlow graphs, XLA and JAX.
"""

from __future__ import annotations

from keras import ops

Depth3DMPPE = 64  # 3DMPPE cfg.depth_dim
DepthRange3DMPPE = 2000.0  # mm: 3DMPPE cfg.bbox_3d_shape[0]


def _softmax_over(logits, axis, beta: float):
    """float32 softmax of beta * logits over `axis` (a tuple of axes).

    The maximum is subtracted BEFORE scaling and exponentiating (exp(beta (x - max)) / sum): no overflow,
    and no large-magnitude rounding (exp(x - logsumexp(x)) loses ~1e-4 relative for logits near 1e3).
    """
    logits = ops.cast(logits, "float32")
    shifted = logits - ops.stop_gradient(ops.max(logits, axis=axis, keepdims=True))
    if beta != 1.0:
        shifted = shifted * beta
    weights = ops.exp(shifted)
    return weights / ops.sum(weights, axis=axis, keepdims=True)


def _grid(n):
    """Voxel-centre coordinates 0 .. n-1 (float32), shaped (1, n, 1) to broadcast over (B, n, J)."""
    return ops.reshape(ops.cast(ops.arange(n), "float32"), (1, -1, 1))


def soft_argmax_2d(heatmaps, beta: float = 1.0):
    """Heatmaps (B, H, W, J) -> (B, J, 2) expected (x, y) in heatmap pixels (pixel centres at integers)."""
    shape = ops.shape(heatmaps)
    probs = _softmax_over(heatmaps, (1, 2), beta)
    x = ops.sum(ops.sum(probs, axis=1) * _grid(shape[2]), axis=1)
    y = ops.sum(ops.sum(probs, axis=2) * _grid(shape[1]), axis=1)
    return ops.stack([x, y], axis=-1)


def volume_softmax(volumes, num_joints: int, depth_bins: int, beta: float = 1.0):
    """(B, H, W, J*D) logits -> (B, H, W, J, D) probabilities summing to 1 over (H, W, D) per joint."""
    c = volumes.shape[-1]
    if c is not None and c != num_joints * depth_bins:
        raise ValueError(
            f"volumes has {c} channels but num_joints * depth_bins = {num_joints} * {depth_bins} = "
            f"{num_joints * depth_bins}"
        )
    shape = ops.shape(volumes)  # dynamic H, W (None) are traced tensors
    logits = ops.reshape(volumes, (shape[0], shape[1], shape[2], num_joints, depth_bins))
    return _softmax_over(logits, (1, 2, 4), beta)


def soft_argmax_3d(volumes, num_joints: int, depth_bins: int, beta: float = 1.0):
    """Volumes (B, H, W, J*D), channel j*D + d -> (B, J, 3) expected (x, y, z) in voxel units."""
    shape = ops.shape(volumes)
    probs = volume_softmax(volumes, num_joints, depth_bins, beta)  # (B, H, W, J, D)
    over_depth = ops.sum(probs, axis=4)  # (B, H, W, J)
    x = ops.sum(ops.sum(over_depth, axis=1) * _grid(shape[2]), axis=1)
    y = ops.sum(ops.sum(over_depth, axis=2) * _grid(shape[1]), axis=1)
    z = ops.sum(ops.sum(probs, axis=(1, 2)) * ops.reshape(_grid(depth_bins), (1, 1, -1)), axis=2)
    return ops.stack([x, y, z], axis=-1)


def heatmap_pool(features, heatmaps, beta: float = 1.0):
    """Joint-aware pooling: features (B, H, W, C) weighted by softmax(heatmaps (B, H, W, J)) over H*W -> (B, J, C)."""
    shape = ops.shape(features)
    probs = ops.reshape(_softmax_over(heatmaps, (1, 2), beta), (shape[0], -1, heatmaps.shape[-1]))
    flat = ops.reshape(ops.cast(features, "float32"), (shape[0], -1, features.shape[-1]))
    return ops.matmul(ops.swapaxes(probs, 1, 2), flat)  # BatchMatMul: stock TF and TFLite ops


def depth_bins_to_mm(z, depth_bins: int = Depth3DMPPE, depth_range_mm: float = DepthRange3DMPPE):
    """Depth in bin units (0 .. D) -> root-relative millimetres: (z / D * 2 - 1) * range / 2 (3DMPPE)."""
    return (z / depth_bins * 2.0 - 1.0) * (depth_range_mm / 2.0)


def mm_to_depth_bins(z_mm, depth_bins: int = Depth3DMPPE, depth_range_mm: float = DepthRange3DMPPE):
    """Root-relative millimetres -> depth bins: (z_mm / (range / 2) + 1) / 2 * D (3DMPPE's training target)."""
    return (z_mm / (depth_range_mm / 2.0) + 1.0) / 2.0 * depth_bins

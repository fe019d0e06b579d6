"""Voxelisation and sparse 3D convolution (MinkowskiEngine semantics) in keras.ops, with static shapes.

TensorFlow has no sparse convolution, so the sparse U-Nets of the 3D methods (PointContrast's
Res16UNet34C) run on these composites under TensorFlow, JAX, XLA and in exported graphs:
- `voxelize`: floor(x / voxel_size) coordinates, one voxel per occupied cell in a static capacity
  (padded + mask), the first point of each cell kept (MinkowskiEngine `sparse_quantize(return_index)`),
  the point -> voxel map and the per-voxel mean of point features (a segment sum / count);
- a voxel set is held as linear int32 keys `batch << 3 * bits | x << 2 * bits | y << bits | z`
  (non-negative coordinates below 2**bits; batch < 2**(31 - 3 * bits)); padded slots hold
  `SENTINEL`, which sorts last and matches nothing. `key_table` sorts the keys once; a lookup is a
  binary search (`searchsorted`) and an equality check, so every kernel map has a static shape;
- kernel maps (output voxels, K offsets) -> input voxel index or -1, in MinkowskiEngine's offset order
  (x fastest: k = ix + s * iy + s * s * iz). Odd kernels span -(s // 2) .. s // 2 around the output,
  even kernels 0 .. s - 1 (MinkowskiEngine `Region::set_bounds`); a stride-2 convolution reads input
  2 * o + d for output o, a transposed one writes output 2 * o + d from input o;
- `sparse_conv`: gather the K neighbours, one matmul with the (K, C_in, C_out) kernel (the
  MinkowskiEngine layout), the sum over offsets folded into it; missing neighbours read a zero row.
  On a fully occupied grid it equals `tf.nn.conv3d` (SAME for odd kernels, VALID stride 2 for 2^3
  kernels) and `tf.nn.conv3d_transpose` (tests/official/ops/test_voxel_ops.py);
- `masked_moments`: per-channel mean and biased variance over valid voxels (sparse BatchNorm).
"""

from __future__ import annotations

import itertools

import numpy as np
from keras import ops

SENTINEL = 2**31 - 1  # key of a padded slot: sorts after every voxel, never equals a query


def kernel_offsets(kernel_size: int) -> np.ndarray:
    """(kernel_size**3, 3) int32 offsets in MinkowskiEngine's order (x varies fastest)."""
    lo = -(kernel_size // 2) if kernel_size % 2 else 0
    span = range(lo, lo + kernel_size)
    return np.array([(x, y, z) for z, y, x in itertools.product(span, span, span)], np.int32)


def linear_keys(coords, batch, mask, bits: int):
    """int32 keys of voxels coords (M, 3) in sample batch (M,); SENTINEL where masked or out of range."""
    coords = ops.cast(coords, "int32")
    batch = ops.cast(batch, "int32")
    inside = ops.all((coords >= 0) & (coords < 2**bits), axis=-1) & ops.cast(mask, "bool")
    key = batch * (2 ** (3 * bits)) + coords[:, 0] * (2 ** (2 * bits)) + coords[:, 1] * (2**bits) + coords[:, 2]
    return ops.where(inside, key, SENTINEL)


def key_table(keys):
    """(sorted keys, order) for lookups: keys[order] == sorted keys."""
    order = ops.cast(ops.argsort(keys), "int32")
    return ops.take(keys, order), order


def lookup(table, query_keys):
    """Index of each query key in the table's voxels, -1 where absent (or the query is SENTINEL)."""
    sorted_keys, order = table
    n = ops.shape(sorted_keys)[0]
    pos = ops.minimum(ops.cast(ops.searchsorted(sorted_keys, query_keys, side="left"), "int32"), n - 1)
    hit = (ops.take(sorted_keys, pos) == query_keys) & (query_keys != SENTINEL)
    return ops.where(hit, ops.take(order, pos), -1)


def _lookup_grid(table, coords, batch, mask, bits: int):
    """Lookup of (M, K, 3) query coordinates with per-row batch (M,) and mask (M, K) -> (M, K) indices."""
    m, k = ops.shape(coords)[0], coords.shape[1]
    keys = linear_keys(ops.reshape(coords, (-1, 3)), ops.repeat(ops.cast(batch, "int32"), k),
                       ops.reshape(mask, (-1,)), bits)
    return ops.reshape(lookup(table, keys), (m, k))


def conv_kernel_map(table, out_coords, out_batch, out_mask, kernel_size: int, stride: int, bits: int):
    """(M_out, K) input index per output voxel and offset: input = stride * out + offset, or -1."""
    offsets = kernel_offsets(kernel_size)
    query = (ops.cast(out_coords, "int32") * stride)[:, None, :] + offsets[None]
    mask = ops.repeat(ops.cast(out_mask, "bool")[:, None], len(offsets), axis=1)
    return _lookup_grid(table, query, out_batch, mask, bits)


def transposed_kernel_map(table, out_coords, out_batch, out_mask, kernel_size: int, stride: int, bits: int):
    """(M_out, K) input index per output voxel and offset of a transposed convolution, or -1.

    Output o receives input i through offset d when o = stride * i + d: a candidate o - d that is not a
    multiple of the stride in every axis has no input.
    """
    offsets = kernel_offsets(kernel_size)
    shifted = ops.cast(out_coords, "int32")[:, None, :] - offsets[None]
    aligned = ops.all(shifted % stride == 0, axis=-1) & ops.cast(out_mask, "bool")[:, None]
    return _lookup_grid(table, ops.floor_divide(shifted, stride), out_batch, aligned, bits)


def sparse_conv(features, kernel_map, kernel):
    """features (M_in, C_in), kernel_map (M_out, K), kernel (K, C_in, C_out) -> (M_out, C_out).

    out[o] = sum_k features[map[o, k]] @ kernel[k], missing neighbours (-1) contributing nothing.
    """
    # Gathered straight from `features` and masked, not from features with a zero row appended: the
    # gradient of a gather from a concatenation is an IndexedSlices split by a data-dependent `Where`, which
    # XLA's TF bridge shape-infers over the whole graph (PointContrast's test step compiled in 66 s, not 11).
    present = ops.cast(kernel_map >= 0, features.dtype)[..., None]
    gathered = ops.take(features, ops.maximum(kernel_map, 0), axis=0) * present  # (M_out, K, C_in)
    k, c_in, c_out = kernel.shape
    flat = ops.reshape(gathered, (-1, k * c_in))
    return ops.matmul(flat, ops.reshape(kernel, (k * c_in, c_out)))


def downsample(coords, batch, mask, stride: int, bits: int, capacity: int | None = None):
    """Unique floor(coords / stride) voxels: (coords, batch, mask) in `capacity` slots (default: the input's).

    MinkowskiEngine's strided output coordinates (the input's, floored to the coarser stride). A smaller
    capacity keeps the first voxels in key order (batch, x, y, z) and drops the rest.
    """
    coarse = ops.floor_divide(ops.cast(coords, "int32"), stride)
    keys = linear_keys(coarse, batch, mask, bits)
    unique = unique_keys(keys)
    if capacity is not None:
        unique = unique[:capacity]
    return decode_keys(unique, bits)


def unique_keys(keys):
    """The distinct keys of keys (M,), ascending, SENTINEL-padded to M."""
    m = ops.shape(keys)[0]
    s = ops.sort(keys)
    first = ops.concatenate([ops.ones((1,), "bool"), s[1:] != s[:-1]], axis=0) & (s != SENTINEL)
    rank = ops.cumsum(ops.cast(first, "int32")) - 1
    slot = ops.where(first, rank, m - 1)
    # each unique key lands at its rank; the last slot also collects non-first entries, so take the max
    # of (key if first else -1) there and overwrite unfilled slots with SENTINEL afterwards
    placed = ops.segment_max(ops.where(first, s, -1), slot, num_segments=m)
    count = ops.sum(ops.cast(first, "int32"))
    return ops.where(ops.arange(m, dtype="int32") < count, placed, SENTINEL)


def decode_keys(keys, bits: int):
    """(coords (M, 3), batch (M,), mask (M,)) of linear keys; padded slots give zeros and False."""
    mask = keys != SENTINEL
    k = ops.where(mask, keys, 0)
    low = 2**bits
    z = k % low
    y = (k // low) % low
    x = (k // (low * low)) % low
    b = k // (low * low * low)
    return ops.stack([x, y, z], axis=-1), b, mask


def masked_moments(features, mask):
    """Per-channel (mean, biased variance, count) of features (M, C) over rows where mask (M,)."""
    w = ops.cast(mask, features.dtype)[:, None]
    count = ops.maximum(ops.sum(w), 1.0)
    mean = ops.sum(features * w, axis=0) / count
    var = ops.sum(ops.square(features - mean) * w, axis=0) / count
    return mean, var, count


def voxelize(points, mask, voxel_size: float, capacity: int, features=None):
    """Quantises points (N, 3) at voxel_size into at most `capacity` voxels (one sample).

    Returns a dict: coords (capacity, 3) int32 = floor(points / voxel_size) - their minimum (so
    non-negative; `origin` (3,) int32 is that minimum), voxel_mask (capacity,), point_index
    (capacity,) the first input point of each voxel (-1 in padding), point_to_voxel (N,) (-1 for
    masked points and voxels beyond the capacity), num_voxels, and, with features (N, C), the
    per-voxel mean `voxel_features` (capacity, C). Voxels are in ascending (x, y, z) order; beyond
    the capacity the last ones in that order are dropped (`num_voxels` counts them all).
    """
    n = ops.shape(points)[0]
    mask = ops.cast(mask, "bool")
    grid = ops.cast(ops.floor(points / voxel_size), "int32")
    big = 2**30
    origin = ops.min(ops.where(mask[:, None], grid, big), axis=0)
    rel = ops.where(mask[:, None], grid - origin, 0)
    extent = ops.max(rel, axis=0) + 1
    key = (rel[:, 0] * extent[1] + rel[:, 1]) * extent[2] + rel[:, 2]
    key = ops.where(mask, key, SENTINEL)
    order = ops.cast(ops.argsort(key), "int32")
    s = ops.take(key, order)
    first = ops.concatenate([ops.ones((1,), "bool"), s[1:] != s[:-1]], axis=0) & (s != SENTINEL)
    rank = ops.cumsum(ops.cast(first, "int32")) - 1
    num_voxels = ops.sum(ops.cast(first, "int32"))
    # voxel of each point (in sorted order, then back to input order through the inverse permutation)
    voxel_sorted = ops.where((s != SENTINEL) & (rank < capacity), rank, -1)
    inverse = ops.cast(ops.argsort(order), "int32")
    point_to_voxel = ops.take(voxel_sorted, inverse)
    # the first point of a voxel = its smallest input index (no reliance on a stable sort)
    slot = ops.where(voxel_sorted >= 0, voxel_sorted, capacity)  # capacity = a discard slot, cut off below
    point_index = ops.segment_min(order, slot, num_segments=capacity + 1)[:capacity]
    valid = ops.arange(capacity, dtype="int32") < ops.minimum(num_voxels, capacity)
    point_index = ops.where(valid, point_index, -1)
    coords = ops.take(rel, ops.maximum(point_index, 0), axis=0) * ops.cast(valid, "int32")[:, None]
    out = {"coords": coords, "origin": origin, "voxel_mask": valid, "point_index": point_index,
           "point_to_voxel": point_to_voxel, "num_voxels": num_voxels}
    if features is not None:
        seg = ops.where(point_to_voxel >= 0, point_to_voxel, capacity)
        total = ops.segment_sum(features, seg, num_segments=capacity + 1)[:capacity]
        count = ops.segment_sum(ops.ones((n,), features.dtype), seg, num_segments=capacity + 1)[:capacity]
        out["voxel_features"] = total / ops.maximum(count, 1.0)[:, None]
    return out

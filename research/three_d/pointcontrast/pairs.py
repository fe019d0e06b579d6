"""One ScanNet pair -> the network's two sparse inputs and their positive matches (tf.data map, in graph).

As `ScanNetMatchPairDataset.__getitem__` (lib/ddp_data_loaders.py):
1. each cloud is centred at its mean and rotated by its own random rotation: axis uniform in
   [-0.5, 0.5)^3, angle uniform in [-range/2, range/2) degrees (range 360), R = expm([axis/|axis| * angle]_x),
   computed here by Rodrigues' formula (the same matrix); T = T1 inv(T0) maps view 0 onto view 1;
2. voxelisation at voxel_size (official/ops/voxel_ops.voxelize): one point per occupied voxel, the first;
3. matches: for each kept view-0 point moved by T, the kept view-1 points within
   voxel_size x 1.5 (Open3D radius search there; here the k = max_matches nearest by
   official/ops/point_ops.knn, then the radius test), ascending distance, -1 padded;
4. features: ones (3 channels) + N(0, 0.01) jitter with probability 0.95 (transforms.Jitter).
Network coordinates are floor(x / voxel_size) shifted by a multiple of 16 (the U-Net's total stride,
so its downsampling groups voxels as MinkowskiEngine does) to be non-negative; voxels beyond
2**coord_bits are masked out.
"""

from __future__ import annotations

import math

import tensorflow as tf

from official.ops import point_ops, voxel_ops

TOTAL_STRIDE = 16  # 2^4 downsamplings of Res16UNet


def rodrigues(axis, angle):
    """Rotation matrix expm([axis / |axis| * angle]_x) of float32 axis (3,) and angle (scalar)."""
    a = axis / tf.norm(axis)
    k = tf.stack([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    return tf.eye(3) + tf.sin(angle) * k + (1.0 - tf.cos(angle)) * (k @ k)


def random_rigid(points, seed, rotation_range: float):
    """(R, t) of the official sample_random_trans: x -> R x + t = R (x - mean)."""
    u = tf.random.stateless_uniform([4], seed)
    axis = u[:3] - 0.5
    angle = rotation_range * math.pi / 180.0 * (u[3] - 0.5)
    rot = rodrigues(axis, angle)
    mean = tf.reduce_mean(points, axis=0)
    return rot, -tf.linalg.matvec(rot, mean)


def _view(points, voxel_size: float, capacity: int, coord_bits: int):
    n = tf.shape(points)[0]
    vox = voxel_ops.voxelize(points, tf.ones([n], tf.bool), voxel_size, capacity)
    valid = vox["voxel_mask"]
    kept = tf.gather(points, tf.maximum(vox["point_index"], 0))
    origin = vox["origin"]
    coords = vox["coords"] + (origin - tf.math.floordiv(origin, TOTAL_STRIDE) * TOTAL_STRIDE)[None, :]
    valid = valid & tf.reduce_all(coords < 2**coord_bits, axis=-1)
    coords = coords * tf.cast(valid, tf.int32)[:, None]
    return coords, valid, tf.where(valid[:, None], kept, 0.0), vox["num_voxels"]


def match_voxels(points0, valid0, points1, valid1, transform, radius: float, max_matches: int):
    """(V0, max_matches) view-1 indices within radius of each view-0 point moved by (R, t), or -1."""
    rot, t = transform
    moved = tf.linalg.matmul(points0, rot, transpose_b=True) + t
    far = tf.where(valid1[:, None], points1, 1e6)  # padded voxels never match
    d2, idx = point_ops.knn(far[None], moved[None], max_matches)
    hit = (d2[0] <= radius * radius) & valid0[:, None]
    return tf.where(hit, idx[0], -1)


def process_pair(example: dict, seed, voxel_size: float, capacity: int, max_matches: int,
                 match_multiplier: float, rotation_range: float, jitter: bool, coord_bits: int) -> dict:
    """{coords0, feats0, mask0, points0, overflow0, coords1, ..., transform, matches} of one pair (static shapes)."""
    seeds = tf.random.experimental.stateless_split(seed, 4)
    out = {}
    rigid = []
    for v in (0, 1):
        pts = tf.cast(example[f"points{v}"], tf.float32)
        if rotation_range > 0:
            rot, t = random_rigid(pts, seeds[v], rotation_range)
        else:
            rot, t = tf.eye(3), tf.zeros([3])
        rigid.append((rot, t))
        pts = tf.linalg.matmul(pts, rot, transpose_b=True) + t
        coords, valid, kept, count = _view(pts, voxel_size, capacity, coord_bits)
        feats = tf.ones([capacity, 3])
        if jitter:
            noise = 0.01 * tf.random.stateless_normal([capacity, 3], seeds[2 + v])
            apply = tf.random.stateless_uniform([], seeds[2 + v] + 1) < 0.95
            feats = feats + tf.where(apply, noise, 0.0)
        out[f"coords{v}"] = coords
        out[f"feats{v}"] = feats * tf.cast(valid, tf.float32)[:, None]
        out[f"mask{v}"] = tf.cast(valid, tf.float32)
        out[f"points{v}"] = kept
        out[f"overflow{v}"] = tf.maximum(count - capacity, 0)
    # T = T1 inv(T0): undo view 0's motion, apply view 1's (both clouds share the world frame)
    (r0, t0), (r1, t1) = rigid
    rot = r1 @ tf.transpose(r0)
    trans = t1 - tf.linalg.matvec(rot, t0)
    out["transform"] = tf.concat([rot, trans[:, None]], axis=1)  # (3, 4): view-0 frame -> view-1 frame
    out["matches"] = match_voxels(out["points0"], out["mask0"] > 0, out["points1"], out["mask1"] > 0,
                                  (rot, trans), voxel_size * match_multiplier, max_matches)
    return out


def network_inputs(batch: dict, view: int) -> dict:
    """The Res16UNet input dict of one view of a batch."""
    return {"coords": batch[f"coords{view}"], "feats": batch[f"feats{view}"], "mask": batch[f"mask{view}"]}


"""UniLoss for MPII PCKh (princeton-vl/uniloss pose/pose/models/loss.py and datasets/mpii.py).

Refactoring (per image, per joint j with a visible joint): the positives are the heatmap cells within
the PCKh radius of the ground truth, ||cell - joint|| < threshold x head size (head size = SC_BIAS x
head-box diagonal, in heatmap pixels; `pckh_positive_mask`), the negatives every other cell. The
binaries compare every positive with every negative, b[p, n] = sign(h[p] - h[n]); joint j is correct
iff some positive row is all +1 (the heatmap's maximum is inside the radius), so
PCKh = mean_j max_p min_n b[p, n] over the image's valid joints.

Anchors per image, as the official code (1 + n_flip + n_random + 2 n_nearby = 49 by default):
the all-correct vector (PCKh 1); `n_flip` all-correct vectors with f = max(int(3.6 npos - 28), 2 npos)
random bits per joint set to -1 (datasets/mpii.py `_generate_bi_points`); `n_random` uniformly random
vectors; `n_nearby` copies of sign(b~) with one random positive row per joint set to +1 (every joint
correct) and `n_nearby` with one random negative column per joint set to -1 (every joint wrong). Each
image's anchors are shuffled independently and slot k of the batch joins the k-th anchor of every
image: distances add over the batch and values average (loss.py), then IDW as for the other metrics.

The anchors are never materialised (a 64x64 heatmap has ~30 x 4,000 binaries per joint): each distance
is ||b~||^2 - 2 <b~, a> + ||a||^2 in closed form from row, column and point sums of b~. Repeated flip
positions are counted once, as the official scatter does. Fixed shapes: positives are padded to
`max_positives` per joint (a joint with more is an error of the caller's radius, see the card).
"""

from __future__ import annotations

import keras
from keras import ops

from official.losses.uniloss import _float, hard_sign, idw_from_squared_distances, relax

SC_BIAS = 0.6  # MPII: head size = 0.6 x the head box diagonal (official/evaluation/mpii_pckh.py)


def pckh_positive_mask(joints, head_size, visible, height: int, width: int, threshold: float = 0.5):
    """(B, J, H*W) bool: cells (x, y) with ||(x, y) - joint|| < threshold x head_size (heatmap pixels).

    joints: (B, J, 2) (x, y) in heatmap pixels (0-based); head_size: (B,) SC_BIAS x head diagonal in
    heatmap pixels; visible: (B, J). Invisible joints have no positive cell.
    """
    joints = ops.cast(joints, "float32")
    ys, xs = ops.meshgrid(ops.arange(height, dtype="float32"), ops.arange(width, dtype="float32"), indexing="ij")
    cells = ops.stack([ops.reshape(xs, (-1,)), ops.reshape(ys, (-1,))], axis=-1)  # (HW, 2)
    dist = ops.sqrt(ops.sum(ops.square(cells[None, None] - joints[:, :, None, :]), axis=-1))
    radius = threshold * ops.cast(head_size, "float32")[:, None, None]
    return ops.logical_and(dist < radius, ops.cast(visible, "bool")[:, :, None])


def pckh_comparisons(heatmaps, positive, max_positives: int):
    """d (B, J, P, HW) = h[positive p] - h[n], its mask, and the joints that take part (B, J).

    heatmaps: (B, H, W, J) scores; positive: (B, J, H*W) bool. P = max_positives (padded).
    """
    h = _float(heatmaps)
    b, hh, ww, j = ops.shape(h)
    h = ops.reshape(ops.transpose(h, (0, 3, 1, 2)), (b, j, hh * ww))
    posf = ops.cast(positive, h.dtype)
    # positive cells first, in index order: top_k of (is positive, then lower index)
    _, idx = ops.top_k(posf * 2.0 - ops.arange(hh * ww, dtype=h.dtype) / (hh * ww), max_positives)
    row_ok = ops.take_along_axis(posf, idx, axis=-1) > 0.5  # (B, J, P)
    joint_ok = ops.any(row_ok, axis=-1)
    hp = ops.take_along_axis(h, idx, axis=-1)
    d = hp[..., None] - h[:, :, None, :]
    valid = ops.logical_and(row_ok[..., None], ops.logical_not(ops.cast(positive, "bool"))[:, :, None, :])
    return d, valid, joint_ok


def pckh_from_bits(bits, valid, joint_ok, dtype="float32"):
    """(..., B) PCKh per image of binaries (..., B, J, P, HW): the fraction of valid joints with an all-+1 row."""
    row_ok = ops.logical_and(ops.any(valid, axis=-1), ops.all(ops.logical_or(bits > 0, ops.logical_not(valid)), axis=-1))
    correct = ops.cast(ops.logical_and(ops.any(row_ok, axis=-1), joint_ok), dtype)
    return ops.sum(correct, axis=-1) / ops.maximum(ops.sum(ops.cast(joint_ok, dtype), axis=-1), 1.0)


def _uniform_index(u, count):
    """floor(u x count), clipped: a uniform integer in [0, count) (count >= 1 where it matters)."""
    count = ops.cast(count, u.dtype)
    return ops.cast(ops.minimum(ops.floor(u * count), ops.maximum(count - 1.0, 0.0)), "int32")


def pckh_uniloss(heatmaps, positive, max_positives: int = 64, n_flip: int = 16, n_random: int = 16,
                 n_nearby: int = 8, seed=None, return_anchors: bool = False):
    """-M~ of the batch PCKh for heatmaps (B, H, W, J) and positive cells (B, J, H*W); a scalar.

    return_anchors: also return the draws (flip positions, random vectors, nearby rows / columns, the
    shuffle) and the per-image squared distances and values, so a test can build the anchors explicitly.
    """
    d, valid, joint_ok = pckh_comparisons(heatmaps, positive, max_positives)
    seed = seed if isinstance(seed, keras.random.SeedGenerator) else keras.random.SeedGenerator(seed)
    bsz, nj, npad, hw = ops.shape(d)
    vf = ops.cast(valid, d.dtype)
    b = relax(d) * vf
    s = ops.stop_gradient(ops.cast(hard_sign(b, valid), d.dtype))
    bs = b * s
    sum_b2 = ops.sum(ops.square(b), axis=(1, 2, 3))  # (B,)
    count = ops.sum(vf, axis=(1, 2, 3))  # ||a||^2 of every anchor
    dot = {"correct": ops.sum(b, axis=(1, 2, 3)), "current": ops.sum(bs, axis=(1, 2, 3))}
    npos = ops.sum(ops.cast(ops.any(valid, axis=-1), d.dtype), axis=-1)  # (B, J) valid rows
    negf = ops.cast(ops.logical_not(ops.cast(positive, "bool")), d.dtype)
    nneg = ops.sum(negf, axis=-1)  # (B, J)
    _, neg_idx = ops.top_k(negf * 2.0 - ops.arange(hw, dtype=d.dtype) / hw, hw)  # negative cells first
    dots, values = [dot["correct"][None]], [pckh_from_bits(ops.ones_like(b)[None], valid, joint_ok, d.dtype)]

    # flipped: f random (row, negative) bits per joint set to -1, repeats counted once
    nflip_static = max(int(max_positives * 3.6 - 28), 2 * max_positives)
    nflip = ops.maximum(ops.floor(npos * 3.6 - 28.0), 2.0 * npos)  # (B, J)
    u = keras.random.uniform((2, n_flip, bsz, nj, nflip_static), seed=seed, dtype=d.dtype)
    rows = _uniform_index(u[0], npos[None, ..., None])
    cols = ops.take_along_axis(ops.broadcast_to(neg_idx[None], (n_flip, bsz, nj, hw)),
                               _uniform_index(u[1], nneg[None, ..., None]), axis=-1)
    flat = rows * hw + cols  # (n_flip, B, J, F)
    live = ops.arange(nflip_static, dtype=d.dtype)[None, None, None, :] < nflip[None, ..., None]
    live = ops.logical_and(live, joint_ok[None, ..., None])
    same = ops.logical_and(flat[..., :, None] == flat[..., None, :], live[..., None, :])
    earlier = ops.tril(ops.ones((nflip_static, nflip_static), d.dtype), k=-1) > 0.5
    first = ops.logical_and(live, ops.logical_not(ops.any(ops.logical_and(same, earlier), axis=-1)))
    bflat = ops.reshape(b, (bsz, nj, npad * hw))
    picked = ops.take_along_axis(ops.broadcast_to(bflat[None], (n_flip, bsz, nj, npad * hw)), flat, axis=-1)
    firstf = ops.cast(first, d.dtype)
    dots.append(dot["correct"][None] - 2.0 * ops.sum(picked * firstf, axis=(2, 3)))
    row_hit = ops.any(ops.logical_and(rows[..., None] == ops.arange(npad)[None, None, None, None, :], first[..., None]), axis=-2)
    row_ok = ops.logical_and(ops.any(valid, axis=-1)[None], ops.logical_not(row_hit))
    ok = ops.logical_and(ops.any(row_ok, axis=-1), joint_ok[None])
    jcount = ops.maximum(ops.sum(ops.cast(joint_ok, d.dtype), axis=-1), 1.0)
    values.append(ops.sum(ops.cast(ok, d.dtype), axis=-1) / jcount[None])

    # random sign vectors, one at a time (each is as large as b~)
    randoms = []
    for _ in range(n_random):
        r = (1.0 - 2.0 * ops.cast(keras.random.uniform(ops.shape(b), seed=seed, dtype=d.dtype) < 0.5, d.dtype)) * vf
        randoms.append(r)
        dots.append(ops.sum(b * r, axis=(1, 2, 3))[None])
        values.append(pckh_from_bits(r[None], valid, joint_ok, d.dtype))

    # nearby: sign(b~) with one positive row per joint set to +1 (all joints correct) ...
    u = keras.random.uniform((2, n_nearby, bsz, nj), seed=seed, dtype=d.dtype)
    prow = _uniform_index(u[0], npos[None])  # (n_nearby, B, J)
    row_b, row_bs = ops.sum(b, axis=-1), ops.sum(bs, axis=-1)  # (B, J, P)
    jf = ops.cast(joint_ok, d.dtype)[None]
    take_row = lambda x: ops.take_along_axis(ops.broadcast_to(x[None], (n_nearby, bsz, nj, npad)), prow[..., None], -1)[..., 0]  # noqa: E731
    dots.append(dot["current"][None] + ops.sum((take_row(row_b) - take_row(row_bs)) * jf, axis=-1))
    values.append(ops.broadcast_to(ops.cast(ops.sum(jf, axis=-1) > 0, d.dtype), (n_nearby, bsz)))
    # ... and with one negative column per joint set to -1 (all joints wrong)
    ncol = ops.take_along_axis(ops.broadcast_to(neg_idx[None], (n_nearby, bsz, nj, hw)),
                               _uniform_index(u[1], nneg[None])[..., None], axis=-1)[..., 0]
    col_b, col_bs = ops.sum(b, axis=-2), ops.sum(bs, axis=-2)  # (B, J, HW)
    take_col = lambda x: ops.take_along_axis(ops.broadcast_to(x[None], (n_nearby, bsz, nj, hw)), ncol[..., None], -1)[..., 0]  # noqa: E731
    dots.append(dot["current"][None] - ops.sum((take_col(col_bs) + take_col(col_b)) * jf, axis=-1))
    values.append(ops.zeros((n_nearby, bsz), d.dtype))

    dots = ops.concatenate(dots, axis=0)  # (K, B)
    values = ops.stop_gradient(ops.concatenate(values, axis=0))
    sq = ops.maximum(sum_b2[None] - 2.0 * dots + count[None], 0.0)
    per_image = {"sq": sq, "values": values}
    # every image shuffles its anchors; slot k joins the k-th of each (distances add, values average)
    k = ops.shape(sq)[0]
    perm = ops.argsort(keras.random.uniform((bsz, k), seed=seed), axis=-1)  # (B, K)
    sq = ops.take_along_axis(ops.transpose(sq), perm, axis=-1)
    values = ops.take_along_axis(ops.transpose(values), perm, axis=-1)
    loss = -idw_from_squared_distances(ops.sum(sq, axis=0), ops.mean(values, axis=0))
    if not return_anchors:
        return loss
    draws = {"flat": flat, "first": first, "random": randoms, "prow": prow, "ncol": ncol, "perm": perm,
             "d": d, "valid": valid, "joint_ok": joint_ok, **per_image}
    return loss, draws

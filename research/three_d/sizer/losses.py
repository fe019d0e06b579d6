"""SIZER's training losses (the code's `train_sizer.py` / `train_parser.py`, spec card "Method"), keras.ops.

SizerNet and ParserNet: Chamfer (squared, both directions, mean; PyTorch3D's chamfer_distance, here
official/losses/chamfer.py) between predicted and target garment vertices + 100 x the uniform-Laplacian
smoothing loss of the predicted mesh (official/ops/mesh_ops.py, neighbour lists of the template faces).
ParserNet adds the local regulariser (train_parser.py: sum over batch, vertices and candidates of
w_k ||c_argmax - c_k||, divided by B * V * K; it keeps the weight mass near the arg-max candidate) and
is first pretrained (epochs < 16; `staged_parser_loss` switches on the step) with an L1 loss towards the one-hot "identity" weights (the candidate
that is the output vertex's own template vertex): |w - onehot| summed over K, mean over B and V.
Difference: the code picks the arg-max candidate through `index_select(layer_neigh, 1, argmax)[0]`, i.e.
row 0 of the neighbour table for every vertex; we take each vertex's own arg-max candidate, as the paper
describes.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from official.losses.chamfer import chamfer_distance
from official.ops.mesh_ops import laplacian_smoothing_loss

LAPLACIAN_WEIGHT = 100.0  # train_sizer.py / train_parser.py: loss_data + 100. * loss_lap
LOCAL_WEIGHT = 1.0  # train_parser.py: ... + local_regu (unweighted; the config's spr_wgt is not used)
IDENTITY_EPOCHS = 16  # train_parser.py: `if ep < 16: pretrain` (epochs 0..15)


def garment_loss(pred, target, neighbours, mask, laplacian_weight: float = LAPLACIAN_WEIGHT) -> dict:
    """{"total", "chamfer", "laplacian"} scalars for predicted / target garments (B, V, 3)."""
    chamfer = ops.mean(chamfer_distance(pred, target, squared=True))
    laplacian = laplacian_smoothing_loss(pred, neighbours, mask)
    return {"total": chamfer + laplacian_weight * laplacian, "chamfer": chamfer, "laplacian": laplacian}


def candidate_positions(vertices, neighbours):
    """(B, V, K, 3) positions of each output vertex's K candidate input vertices."""
    v, k = neighbours.shape
    flat = ops.take(vertices[..., :3], ops.reshape(ops.convert_to_tensor(neighbours, "int32"), (-1,)), axis=1)
    return ops.reshape(flat, (-1, v, k, 3))


def local_regulariser(weights, vertices, neighbours):
    """Scalar: sum over (B, V, K) of w_k ||c_argmax - c_k|| / (B V K), candidates c = vertices[neighbours]."""
    cands = candidate_positions(vertices, neighbours)
    best = ops.expand_dims(ops.argmax(weights, axis=-1), -1)  # (B, V, 1)
    anchor = ops.take_along_axis(cands, ops.expand_dims(best, -1), axis=2)  # (B, V, 1, 3)
    sq = ops.sum(ops.square(cands - anchor), axis=-1)
    ok = sq > 0  # the arg-max itself: distance 0 without a NaN gradient
    dist = ops.where(ok, ops.sqrt(ops.where(ok, sq, ops.ones_like(sq))), ops.zeros_like(sq))
    return ops.mean(weights * dist)


def identity_targets(neighbours: np.ndarray, vert_indices: np.ndarray) -> np.ndarray:
    """(V, K) float32 one-hots of the candidate equal to each output vertex's own template vertex (numpy)."""
    hits = np.asarray(neighbours) == np.asarray(vert_indices)[:, None]
    missing = np.nonzero(~hits.any(axis=1))[0]
    if missing.size:
        raise ValueError(f"identity_targets: output vertex {missing[0]} has no candidate equal to its template "
                         f"vertex {vert_indices[missing[0]]}")
    return (hits & (np.cumsum(hits, axis=1) == 1)).astype(np.float32)


def identity_pretrain_loss(weights, targets):
    """Scalar: |weights (B, V, K) - identity one-hots (V, K)| summed over K, mean over B and V."""
    return ops.mean(ops.sum(ops.abs(weights - ops.cast(targets, weights.dtype)[None]), axis=-1))


def parser_loss(pred, target, weights, vertices, neighbours, faces_neighbours, faces_mask,
                laplacian_weight: float = LAPLACIAN_WEIGHT, local_weight: float = LOCAL_WEIGHT) -> dict:
    """ParserNet's second-stage loss: garment_loss + local_weight x the local regulariser (code: 1)."""
    terms = garment_loss(pred, target, faces_neighbours, faces_mask, laplacian_weight)
    terms["local"] = local_regulariser(weights, vertices, neighbours)
    terms["total"] = terms["total"] + local_weight * terms["local"]
    return terms


def staged_parser_loss(step, identity_steps: int, pred, target, weights, vertices, neighbours, identity,
                       faces_neighbours, faces_mask, laplacian_weight: float = LAPLACIAN_WEIGHT,
                       local_weight: float = LOCAL_WEIGHT) -> dict:
    """train_parser.py's two stages on the 0-based step: identity_pretrain_loss while step < identity_steps,
    then parser_loss. Every term is returned at every step (to log); "total" is the stage's objective and
    "stage" is 1 or 2. The other stage's terms get no gradient (where() passes zeros; all terms are NaN-safe)."""
    terms = parser_loss(pred, target, weights, vertices, neighbours, faces_neighbours, faces_mask,
                        laplacian_weight, local_weight)
    terms["identity"] = identity_pretrain_loss(weights, identity)
    pretrain = ops.less(ops.cast(step, "int64"), ops.cast(identity_steps, "int64"))
    terms["total"] = ops.where(pretrain, terms["identity"], terms["total"])
    terms["stage"] = ops.where(pretrain, 1.0, 2.0)
    return terms

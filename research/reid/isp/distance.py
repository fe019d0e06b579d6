"""Visibility-aware (ARM) query-gallery distances of ISP (TEST.WITH_ARM), vectorised with visibility masks.

Facts from ISP-reID `data/datasets/eval_reid.py` (`arm_eval_func`): with cosine similarities mapped to
[0, 1] as s = (cos + 1) / 2, the similarity of query q and gallery g is
    S = (sum_k v_qk v_gk s_k + s_gf) / (sum_k v_qk v_gk + 1),
where s_k compares the BN part-k features, s_gf the concatenated BN global + foreground features, and
v the 0/1 part visibility (a part is visible if it wins the argmax at one pixel). A part missing from
either image does not count. The distance is 1 - S (the official code ranks by descending S).
"""

from __future__ import annotations

import numpy as np


def split_features(features: np.ndarray, part_num: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, (K+1) D) BN features [parts, global, fore] -> parts (N, K-1, D), global+fore (N, 2D)."""
    features = np.asarray(features, np.float64)
    dim = features.shape[1] // (part_num + 1)
    parts = features[:, : (part_num - 1) * dim].reshape(len(features), part_num - 1, dim)
    return parts, features[:, (part_num - 1) * dim:]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def visibility_aware_distance(
    query_parts, query_gf, query_visible, gallery_parts, gallery_gf, gallery_visible, chunk: int = 256
) -> np.ndarray:
    """(num_query, num_gallery) distances 1 - S; parts (N, K-1, D), gf (N, 2D), visible (N, K-1) in {0, 1}."""
    gp, gg = _unit(np.asarray(gallery_parts, np.float64)), _unit(np.asarray(gallery_gf, np.float64))
    gv = np.asarray(gallery_visible, np.float64)
    qp_all, qg_all = _unit(np.asarray(query_parts, np.float64)), _unit(np.asarray(query_gf, np.float64))
    qv_all = np.asarray(query_visible, np.float64)
    out = np.empty((len(qp_all), len(gp)))
    for start in range(0, len(qp_all), chunk):  # (chunk, G, K-1) at a time: Market is 3,368 x 15,913 x 6
        qp, qg, qv = qp_all[start:start + chunk], qg_all[start:start + chunk], qv_all[start:start + chunk]
        part_sim = (np.einsum("qkd,gkd->qgk", qp, gp) + 1.0) / 2.0
        overlap = qv[:, None, :] * gv[None, :, :]
        gf_sim = (qg @ gg.T + 1.0) / 2.0
        out[start:start + chunk] = 1.0 - ((part_sim * overlap).sum(-1) + gf_sim) / (overlap.sum(-1) + 1.0)
    return out

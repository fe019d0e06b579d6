"""Person re-identification ranking metrics in the Market-1501 protocol: CMC rank-k and mAP.

For each query, the gallery is ranked by distance (ascending; equal distances keep gallery order);
gallery images of the query's identity taken by the query's camera are removed (the same person seen by
the same camera is not a re-identification). The remaining images of the query's identity are the
matches. A query with no match left is not scored. Per query:
- CMC: 1 from the rank of the first match on, so rank-k = fraction of scored queries whose first match
  is among the top k;
- AP: the mean of precision@i over the ranks i of the matches (all matches, not truncated).
mAP and the CMC curve average over scored queries. Values are fractions (0-1).
Features are compared by squared Euclidean distance (torchreid's default) or cosine distance.
"""

from __future__ import annotations

import numpy as np

METRICS = ("euclidean", "cosine")


class ReidInputError(ValueError):
    """Features, identities and cameras that do not fit together; the message names the array."""


def distance_matrix(query: np.ndarray, gallery: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """(num_query, num_gallery) distances: squared Euclidean, or 1 - cosine similarity."""
    query, gallery = np.asarray(query, np.float64), np.asarray(gallery, np.float64)
    if metric == "cosine":
        q = query / np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
        g = gallery / np.maximum(np.linalg.norm(gallery, axis=1, keepdims=True), 1e-12)
        return 1.0 - q @ g.T
    if metric == "euclidean":
        squared = (query**2).sum(1)[:, None] + (gallery**2).sum(1)[None, :] - 2.0 * query @ gallery.T
        return np.maximum(squared, 0.0)
    raise ReidInputError(f"metric: expected one of {', '.join(METRICS)}, got {metric!r}")


def check_inputs(arrays: dict[str, np.ndarray]) -> None:
    """Shapes of the six arrays (query_/gallery_ feats, pids, camids), with the wrong one named."""
    for side in ("query", "gallery"):
        feats = arrays[f"{side}_feats"]
        if feats.ndim != 2 or not len(feats):
            raise ReidInputError(f"{side}_feats: expected a non-empty (N, D) array, got shape {feats.shape}")
        if not np.all(np.isfinite(feats)):
            raise ReidInputError(f"{side}_feats: features must be finite")
        for key in (f"{side}_pids", f"{side}_camids"):
            if arrays[key].shape != (len(feats),):
                raise ReidInputError(f"{key}: expected shape ({len(feats)},) to match {side}_feats, got {arrays[key].shape}")
    if arrays["query_feats"].shape[1] != arrays["gallery_feats"].shape[1]:
        raise ReidInputError(
            f"gallery_feats: dimension {arrays['gallery_feats'].shape[1]} differs from query_feats' "
            f"{arrays['query_feats'].shape[1]}"
        )


def evaluate_rank(distances, query_pids, gallery_pids, query_camids, gallery_camids, max_rank: int = 10) -> dict:
    """{"mAP", "cmc" (max_rank values), "rank1", "rank5", "rank10", "scored_queries", "queries"}."""
    distances = np.asarray(distances, np.float64)
    query_pids, gallery_pids = np.asarray(query_pids), np.asarray(gallery_pids)
    query_camids, gallery_camids = np.asarray(query_camids), np.asarray(gallery_camids)
    cmc_sum, ap_sum, scored = np.zeros(max_rank), 0.0, 0
    for i in range(len(query_pids)):
        order = np.argsort(distances[i], kind="stable")
        keep = ~((gallery_pids[order] == query_pids[i]) & (gallery_camids[order] == query_camids[i]))
        matches = (gallery_pids[order] == query_pids[i])[keep]
        if not matches.any():
            continue
        scored += 1
        first = int(np.argmax(matches))
        if first < max_rank:
            cmc_sum[first:] += 1
        hits = np.cumsum(matches)
        ranks = np.flatnonzero(matches)
        ap_sum += float(np.mean(hits[ranks] / (ranks + 1.0)))
    if not scored:
        raise ReidInputError("query_pids: no query has a gallery match from another camera")
    cmc = cmc_sum / scored
    result = {"mAP": ap_sum / scored, "cmc": cmc.tolist(), "scored_queries": scored, "queries": len(query_pids)}
    for k in (1, 5, 10):
        if k <= max_rank:
            result[f"rank{k}"] = float(cmc[k - 1])
    return result

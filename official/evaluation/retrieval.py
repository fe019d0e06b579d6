"""Hashing retrieval metrics: Hamming distance on packed bits, mAP over the full ranking, precision@k.

Codes are in {-1, +1}^q (a value >= 0 counts as +1, the sign convention of the exporter). Packed codes
hold bit j of a code (1 for +1) at bit 7 - j % 8 of byte j // 8, numpy's `packbits` order, padded with
zero bits to whole bytes. The Hamming distance of two packed codes is the popcount of their XOR, which
equals (q - u.v) / 2 for the ±1 codes (ExchNet spec, check 1).

Ranking (ExchNet spec, "Metrics"): the database is sorted by distance ascending, equal distances kept in
database order (a stable sort). Per query, AP = the mean of precision@i over the ranks i of the relevant
(same-class) items of the ranking (the top `topk` when given, ADSH's mAP@topk); a query with no relevant
item in it has AP 0 (ADSH's evaluation and DPSH's `CalcTopMap` skip it; `skip_empty=True` does that).
mAP averages over queries; precision@k = relevant items among the first k, over k. Values are fractions.
"""

from __future__ import annotations

import numpy as np

from official.core.errors import BadValueError


def _bits(codes) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise BadValueError(f"codes: expected a (num_items, bits) array, got shape {codes.shape}")
    return codes >= 0


def pack_codes(codes) -> np.ndarray:
    """(n, q) codes in {-1, +1} (or any sign) -> (n, ceil(q / 8)) uint8 packed bits."""
    return np.packbits(_bits(codes), axis=1)


def hamming_distance_packed(query_packed, database_packed) -> np.ndarray:
    """(nq, nd) int32 popcount(query XOR database) of packed codes (bytes of equal length)."""
    q, d = np.asarray(query_packed, np.uint8), np.asarray(database_packed, np.uint8)
    if q.ndim != 2 or d.ndim != 2 or q.shape[1] != d.shape[1]:
        raise BadValueError(f"packed codes: expected (n, bytes) arrays of equal width, got {q.shape} and {d.shape}")
    xor = np.bitwise_xor(q[:, None, :], d[None, :, :])
    return np.bitwise_count(xor).sum(axis=-1, dtype=np.int32)


def hamming_distance(query_codes, database_codes) -> np.ndarray:
    """(nq, nd) Hamming distances of ±1 codes, computed on their packed bits."""
    return hamming_distance_packed(pack_codes(query_codes), pack_codes(database_codes))


def _relevance(query_labels, database_labels) -> np.ndarray:
    query_labels, database_labels = np.asarray(query_labels), np.asarray(database_labels)
    if query_labels.ndim == 2:  # multi-label one-hot rows: relevant when any label is shared
        return (query_labels @ database_labels.T) > 0
    return query_labels[:, None] == database_labels[None, :]


def ranked_relevance(distances, relevance, topk: int | None = None) -> np.ndarray:
    """relevance reordered per query by distance ascending (stable: ties keep database order), cut at topk."""
    distances, relevance = np.asarray(distances), np.asarray(relevance, bool)
    if distances.shape != relevance.shape:
        raise BadValueError(f"distances {distances.shape} and relevance {relevance.shape} differ in shape")
    order = np.argsort(distances, axis=1, kind="stable")
    ranked = np.take_along_axis(relevance, order, axis=1)
    return ranked[:, :topk] if topk else ranked


def average_precisions(distances, relevance, topk: int | None = None) -> np.ndarray:
    """(nq,) AP of each query (0 where its ranking holds no relevant item)."""
    ranked = ranked_relevance(distances, relevance, topk).astype(np.float64)
    hits = np.cumsum(ranked, axis=1)
    ranks = np.arange(1, ranked.shape[1] + 1, dtype=np.float64)
    total = ranked.sum(axis=1)
    return np.where(total > 0, (ranked * hits / ranks).sum(axis=1) / np.maximum(total, 1.0), 0.0)


def mean_average_precision(distances, relevance, topk: int | None = None, skip_empty: bool = False) -> float:
    """mAP over queries (AP 0 for a query without relevant items, or leave it out with skip_empty)."""
    ap = average_precisions(distances, relevance, topk)
    if skip_empty:
        has = ranked_relevance(distances, relevance, topk).any(axis=1)
        return float(ap[has].mean()) if has.any() else 0.0
    return float(ap.mean()) if ap.size else 0.0


def precision_at_k(distances, relevance, k: int) -> float:
    """Mean over queries of the relevant fraction among the first k ranked items (k capped at the database)."""
    ranked = ranked_relevance(distances, relevance, k)
    return float(ranked.mean()) if ranked.size else 0.0


def retrieval_metrics(query_codes, query_labels, database_codes, database_labels,
                      topk: int | None = None, precision_ks: tuple[int, ...] = (10, 100)) -> dict[str, float]:
    """{"mAP", "precision@k" for each k} of Hamming ranking of ±1 codes (class labels or multi-hot rows)."""
    distances = hamming_distance(query_codes, database_codes)
    relevance = _relevance(query_labels, database_labels)
    out = {"mAP": mean_average_precision(distances, relevance, topk)}
    for k in precision_ks:
        out[f"precision@{k}"] = precision_at_k(distances, relevance, k)
    return out

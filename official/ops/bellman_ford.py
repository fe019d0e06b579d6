"""Dense min-plus Bellman-Ford towards one target node per graph (keras.ops only; XLA- and TFLite-friendly).

TopoPlan's symbolic planner (spec card topo_planning.md "Method"): with d^0 = 0 at the target and "infinity"
elsewhere, d_i <- min(d_i, min_j (w_ij + d_j)) is Bellman-Ford on the reversed graph, and the next hop is
argmin_j (w_ij + d_j). After k rounds d_i is exact for every node with a shortest path of at most k edges.
Infinity is the finite constant UNREACHABLE (the authors' distance init, 1e6) inside the loop, so sums stay
finite under XLA and TFLite; `shortest_distances` turns it into +inf at the end. The loop over rounds is
unrolled in Python (a static count), with no tf.while_loop.
"""

from __future__ import annotations

from keras import ops

UNREACHABLE = 1e6  # "no edge" / "not reached yet"; edge costs must be far below it


def edge_costs(lengths, adjacency, threshold: float = 0.5, node_mask=None):
    """(B, N, N) costs w_ij = lengths_ij where adjacency_ij >= threshold, i != j and both nodes are real, else
    UNREACHABLE (self-loops are never hops: a zero-length loop would tie with the best neighbour)."""
    n = adjacency.shape[-1]
    keep = ops.logical_and(adjacency >= threshold, (ops.eye(n) < 0.5)[None])
    if node_mask is not None:
        real = node_mask > 0.5
        keep = ops.logical_and(keep, ops.logical_and(real[:, :, None], real[:, None, :]))
    return ops.where(keep, lengths, UNREACHABLE)


def relax(costs, target_one_hot, rounds: int):
    """`rounds` min-plus rounds from d^0 (0 at the target, UNREACHABLE elsewhere) -> (B, N) finite distances."""
    dist = ops.where(target_one_hot > 0.5, 0.0, UNREACHABLE)
    dist = ops.cast(dist, costs.dtype)
    for _ in range(rounds):
        through = ops.min(costs + dist[:, None, :], axis=2)  # best neighbour j of each i
        dist = ops.minimum(dist, ops.minimum(through, UNREACHABLE))
    return dist


def next_hops(costs, dist, target_one_hot):
    """argmin_j (w_ij + d_j) per node (B, N) int32; the target maps to itself and unreached nodes to -1."""
    hop = ops.cast(ops.argmin(costs + dist[:, None, :], axis=2), "int32")
    target = ops.cast(ops.argmax(target_one_hot, axis=1), "int32")[:, None]
    hop = ops.where(target_one_hot > 0.5, target, hop)
    return ops.where(dist >= UNREACHABLE, -1, hop)


def shortest_distances(costs, target_one_hot, rounds: int | None = None):
    """(distances (B, N) with +inf where unreachable, next hops (B, N)); `rounds` defaults to N - 1 (exact)."""
    n = costs.shape[-1]
    dist = relax(costs, target_one_hot, n - 1 if rounds is None else rounds)
    hops = next_hops(costs, dist, target_one_hot)
    return ops.where(dist >= UNREACHABLE, float("inf"), dist), hops

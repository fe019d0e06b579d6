"""Spec checks 3 and 4: the dense min-plus Bellman-Ford op (official/ops/bellman_ford.py) against networkx and
scipy on random directed graphs with unreachable nodes, and k-round exactness against hop counts."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import shortest_path

from official.ops import bellman_ford

N = 12


def random_graphs(count: int, seed: int = 0):
    """(lengths, adjacency, target one-hot) batches: directed, sparse (some nodes cannot reach the target)."""
    rng = np.random.default_rng(seed)
    lengths = rng.uniform(0.1, 3.0, (count, N, N)).astype(np.float32)
    adjacency = (rng.uniform(size=(count, N, N)) < 0.18).astype(np.float32)
    targets = rng.integers(0, N, count)
    return lengths, adjacency, np.eye(N, dtype=np.float32)[targets], targets


def to_networkx(lengths, adjacency):
    g = nx.DiGraph()
    g.add_nodes_from(range(N))
    for i, j in zip(*np.nonzero(adjacency), strict=True):
        if i != j:
            g.add_edge(int(i), int(j), weight=float(lengths[i, j]))
    return g


def test_distances_equal_networkx_and_scipy():
    """Check 3: 50 random graphs, tolerance 1e-5; unreachable nodes are +inf (networkx omits them)."""
    lengths, adjacency, one_hot, targets = random_graphs(50)
    costs = bellman_ford.edge_costs(lengths, adjacency)
    dist, hops = (np.asarray(x) for x in bellman_ford.shortest_distances(costs, one_hot))
    unreachable = 0
    for b in range(50):
        g = to_networkx(lengths[b], adjacency[b])
        want = nx.single_source_bellman_ford_path_length(g.reverse(), int(targets[b]))
        for i in range(N):
            if i in want:
                assert dist[b, i] == pytest.approx(want[i], abs=1e-5)
            else:
                assert np.isinf(dist[b, i]) and hops[b, i] == -1
                unreachable += 1
        dense = np.where((adjacency[b] > 0) & ~np.eye(N, dtype=bool), lengths[b], 0.0)
        ref = shortest_path(dense, method="BF", directed=True)[:, targets[b]]
        np.testing.assert_allclose(dist[b], ref, atol=1e-5)
    assert unreachable > 20  # the case is exercised


def test_k_rounds_exact_for_short_paths_and_next_hops_valid():
    """Check 4: after k rounds d_i is exact iff the shortest path from i has <= k edges; the next hop starts a
    networkx shortest path."""
    lengths, adjacency, one_hot, targets = random_graphs(30, seed=1)
    costs = bellman_ford.edge_costs(lengths, adjacency)
    exact, _ = (np.asarray(x) for x in bellman_ford.shortest_distances(costs, one_hot))
    seen_inexact = 0
    for k in (1, 2, 3, 5):
        dist, hops = (np.asarray(x) for x in bellman_ford.shortest_distances(costs, one_hot, rounds=k))
        for b in range(30):
            g = to_networkx(lengths[b], adjacency[b]).reverse()
            paths = nx.single_source_dijkstra_path(g, int(targets[b]))
            for i, path in paths.items():
                edges = len(path) - 1  # continuous random lengths: the shortest path is unique
                if edges <= k:
                    assert dist[b, i] == pytest.approx(exact[b, i], abs=1e-5)
                else:
                    assert dist[b, i] > exact[b, i] + 1e-6
                    seen_inexact += 1
    assert seen_inexact > 50
    dist, hops = (np.asarray(x) for x in bellman_ford.shortest_distances(costs, one_hot))
    for b in range(30):
        fwd = to_networkx(lengths[b], adjacency[b])
        t = int(targets[b])
        for i in range(N):
            if i == t:
                assert hops[b, i] == t
            elif np.isfinite(dist[b, i]):
                j = int(hops[b, i])
                assert fwd.has_edge(i, j)
                assert lengths[b, i, j] + nx.shortest_path_length(fwd, j, t, weight="weight") == pytest.approx(
                    nx.shortest_path_length(fwd, i, t, weight="weight"), abs=1e-4)


def test_threshold_and_padding():
    """Edges below the probability threshold, self-loops and padded nodes never carry a path."""
    lengths = np.ones((1, 4, 4), np.float32)
    probs = np.array([[[0.0, 0.9, 0.4, 0.9], [0.9, 1.0, 0.9, 0.0], [0.4, 0.9, 0.0, 0.9], [0.9, 0.0, 0.9, 0.0]]], np.float32)
    target = np.eye(4, dtype=np.float32)[[2]]
    dist, hops = (np.asarray(x) for x in bellman_ford.shortest_distances(bellman_ford.edge_costs(lengths, probs), target))
    np.testing.assert_allclose(dist[0], [2.0, 1.0, 0.0, 1.0])  # 0-2 at p = 0.4 is dropped
    mask = np.array([[1, 0, 1, 0]], np.float32)  # without nodes 1 and 3, node 0 is cut off
    dist, hops = (np.asarray(x) for x in bellman_ford.shortest_distances(bellman_ford.edge_costs(lengths, probs, 0.5, mask), target))
    assert np.isinf(dist[0, 0]) and hops[0, 0] == -1 and hops[0, 2] == 2

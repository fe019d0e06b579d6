"""Writes random geometric graphs in TopoPlan's converted layout (ROOT/{train,val}/*.npz, one graph per file,
the keys of the Zenodo .pth dicts) that official/data/topo_graphs.py reads.

Each graph: N nodes at uniform positions in a 10 x 10 square (x, y, sin(theta), cos(theta)); true edges join
pairs closer than --radius, each blocked ("a wall") with probability --walls, plus the Euclidean minimum
spanning tree so every graph is connected. predicted_adj_mat is the uncertain map a perception module would
give: true edges U(0.35, 1), blocked or slightly-too-far pairs (< 1.5 radius) U(0, 0.65), far pairs
U(0, 0.15), so a 0.5 threshold both drops true edges and invents false ones, and only the distances tell
some of them apart. optimal_actions, path_length_mat (hops of the optimal path) and global_distance_matrix
come from networkx Dijkstra on edge length = Euclidean distance; features are N(0, 1) (512-d, no signal);
weight_mat is ones (spec card "Fixture").
    python -m tools.make_topo_graphs --out=data/topo_graphs_synth      # 1,000 train + 64 val graphs (~150 MB)
Train with `python -m tools.train --experiment=topo_planning_tiny_synth_graphs` (README "Small run"). The
set is written to a temporary folder and renamed into place with a `.complete` marker; kept unless --force.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from absl import app, flags

from official.core.file_io import atomic_directory

FLAGS = flags.FLAGS
SIDE = 10.0  # square side (the distances are normalised by their max anyway)


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output dataset root (train/ and val/ are written inside).")
    flags.DEFINE_integer("train", 1000, "Training graphs.")
    flags.DEFINE_integer("val", 64, "Validation graphs.")
    flags.DEFINE_integer("nodes", 32, "Nodes per graph (the authors' graphs: 32; fewer are padded by the reader).")
    flags.DEFINE_integer("feature_dim", 512, "Per-node feature width.")
    flags.DEFINE_float("radius", 2.8, "Pairs closer than this may be joined.")
    flags.DEFINE_float("walls", 0.3, "Probability that a close pair is blocked.")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def random_graph(rng: np.random.Generator, nodes: int = 32, feature_dim: int = 512, radius: float = 2.8,
                 walls: float = 0.3) -> dict[str, np.ndarray]:
    """One graph dict with the Zenodo keys (see the module docstring)."""
    import networkx as nx

    xy = rng.uniform(0, SIDE, (nodes, 2))
    theta = rng.uniform(-np.pi, np.pi, nodes)
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    close = (dist < radius) & ~np.eye(nodes, dtype=bool)
    blocked = np.triu(rng.uniform(size=(nodes, nodes)) < walls, 1)
    adj = close & ~(blocked | blocked.T)
    complete = nx.from_numpy_array(dist)
    for i, j in nx.minimum_spanning_tree(complete).edges():
        adj[i, j] = adj[j, i] = True
    graph = nx.Graph()
    graph.add_nodes_from(range(nodes))
    graph.add_weighted_edges_from((i, j, dist[i, j]) for i, j in zip(*np.nonzero(np.triu(adj)), strict=True))
    actions = np.zeros((nodes, nodes), np.int64)
    hops = np.zeros((nodes, nodes), np.int64)
    geodesic = np.zeros((nodes, nodes), np.float32)
    for t in range(nodes):
        lengths, paths = nx.single_source_dijkstra(graph, t)
        for i, path in paths.items():  # path t -> ... -> i; walked backwards it is i's route to t
            actions[i, t] = path[-2] if len(path) > 1 else t
            hops[t, i] = len(path) - 1
            geodesic[i, t] = lengths[i]
    upper = np.triu(np.ones((nodes, nodes), bool), 1)
    noise = rng.uniform(size=(nodes, nodes))
    probs = np.where(adj, 0.35 + 0.65 * noise, np.where(dist < 1.5 * radius, 0.65 * noise, 0.15 * noise))
    probs = np.where(upper, probs, 0.0)
    probs = (probs + probs.T).astype(np.float32)
    return {
        "positions": np.concatenate([xy, np.sin(theta)[:, None], np.cos(theta)[:, None]], 1).astype(np.float32),
        "features": rng.normal(size=(nodes, feature_dim)).astype(np.float32),
        "optimal_actions": actions,
        "predicted_adj_mat": probs,
        "ground_adj_mat": adj.astype(np.float32),
        "global_distance_matrix": geodesic,
        "path_length_mat": hops,
        "weight_mat": np.ones((nodes, nodes), np.float32),
    }


def write_topo_graphs(out: str, train: int = 1000, val: int = 64, nodes: int = 32, feature_dim: int = 512,
                      radius: float = 2.8, walls: float = 0.3, seed: int = 0, force: bool = False) -> dict:
    """Writes the set atomically; returns {split: graphs} ({} when a complete set is kept)."""
    if min(train, val) < 1 or not 2 <= nodes <= 32:
        raise ValueError(f"--train and --val must be >= 1 and --nodes in 2..32, got {train}, {val}, {nodes}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"graph set already at {out}; --force rewrites")
        return {}
    rng = np.random.default_rng(seed)
    marker = f"make_topo_graphs train={train} val={val} nodes={nodes} feature_dim={feature_dim} radius={radius} " \
             f"walls={walls} seed={seed}"
    with atomic_directory(out, marker) as tmp:
        for split, count in (("train", train), ("val", val)):
            os.makedirs(os.path.join(tmp, split))
            for k in range(count):
                np.savez(os.path.join(tmp, split, f"graph_{k:06d}.npz"), **random_graph(rng, nodes, feature_dim, radius, walls))
    return {"train": train, "val": val}


def main(argv: list[str]) -> None:
    del argv
    if not FLAGS.out:
        sys.exit("make_topo_graphs: --out is required")
    try:
        counts = write_topo_graphs(FLAGS.out, FLAGS.train, FLAGS.val, FLAGS.nodes, FLAGS.feature_dim, FLAGS.radius,
                                   FLAGS.walls, FLAGS.seed, FLAGS.force)
    except (ValueError, OSError) as err:
        sys.exit(f"make_topo_graphs: {err}")
    if counts:
        print(f"wrote {counts['train']} / {counts['val']} train / val graphs of {FLAGS.nodes} nodes to {FLAGS.out}")


if __name__ == "__main__":
    define_flags()
    app.run(main)

"""The graph reader (official/data/topo_graphs.py) on fixtures in the converted Zenodo layout written by
tools/make_topo_graphs.py, bad records and schema errors, the stateless target draw, the generator's labels
against the Bellman-Ford op, and the one-off .pth -> .npz converter (where torch is installed)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from official.core.errors import UserError
from official.data import topo_graphs
from official.ops import bellman_ford
from tools.make_topo_graphs import random_graph


def write_fixture(root: str, graphs: int = 8, seed: int = 0) -> list[dict]:
    """8 graphs in ROOT/train (+ one of 20 nodes, one corrupt file and one with a NaN)."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "train"), exist_ok=True)
    written = [random_graph(rng) for _ in range(graphs)]
    written.append(random_graph(rng, nodes=20))
    for k, graph in enumerate(written):
        np.savez(os.path.join(root, "train", f"g{k:03d}.npz"), **graph)
    with open(os.path.join(root, "train", "g900.npz"), "wb") as f:
        f.write(b"not a zip")
    bad = dict(written[0], global_distance_matrix=np.full((32, 32), np.nan, np.float32))
    np.savez(os.path.join(root, "train", "g901.npz"), **bad)
    return written


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("topo_graphs"))
    return root, write_fixture(root)


def test_reader_pads_counts_and_skips(fixture, caplog):
    root, written = fixture
    graphs, skipped = topo_graphs.read_graphs(topo_graphs.graph_files(root, "train"))
    assert skipped == 2 and "skipped 2 of 11" in caplog.text and "g900.npz" in caplog.text
    assert graphs["optimal_actions"].shape == (9, 32, 32) and graphs["num_nodes"].tolist() == [32] * 8 + [20]
    assert graphs["node_mask"][8].sum() == 20 and graphs["positions"][8, 20:].sum() == 0
    np.testing.assert_array_equal(graphs["optimal_actions"][3], written[3]["optimal_actions"])
    assert len(topo_graphs.graph_files(root, "train", data_limit=4)) == 4


def test_schema_errors_name_file_and_key(tmp_path):
    root = str(tmp_path)
    graph = random_graph(np.random.default_rng(1))
    os.makedirs(os.path.join(root, "train"))
    path = os.path.join(root, "train", "g0.npz")
    np.savez(path, **{k: v for k, v in graph.items() if k != "ground_adj_mat"})
    with pytest.raises(UserError, match=r"g0\.npz: missing key 'ground_adj_mat'"):
        topo_graphs.read_graphs([path])
    np.savez(path, **dict(graph, path_length_mat=graph["path_length_mat"][:, :31]))
    with pytest.raises(UserError, match=r"g0\.npz: key 'path_length_mat' has shape \(32, 31\)"):
        topo_graphs.read_graphs([path])
    with pytest.raises(UserError, match="nowhere/val: no such folder"):
        topo_graphs.graph_files(os.path.join(root, "nowhere"), "val")


def test_examples_follow_graph_dataset(fixture):
    root, written = fixture
    graphs, _ = topo_graphs.read_graphs(topo_graphs.graph_files(root, "train"))
    graphs["weight_mat"][0, :, :] = 5000.0
    ds = topo_graphs.topo_dataset(graphs, training=False, all_targets=True)
    seen = 0
    for inputs, targets in ds.take(40):
        g, t = seen // 32, int(targets["target_index"])
        assert t == seen % 32
        pos = written[g]["positions"][:, :2]
        local = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
        np.testing.assert_allclose(inputs["distances"], local / local.max(), atol=1e-6)
        np.testing.assert_array_equal(inputs["linkages"], written[g]["predicted_adj_mat"])
        np.testing.assert_array_equal(targets["actions"], written[g]["optimal_actions"][:, t])
        np.testing.assert_array_equal(targets["path_lengths"], written[g]["path_length_mat"][t])
        assert float(np.max(targets["weights"])) == (1000.0 if g == 0 else 1.0)
        assert np.argmax(inputs["target"]) == t and inputs["features"].shape == (32, 512)
        seen += 1


def test_training_targets_are_random_and_repeatable(fixture):
    root, _ = fixture
    graphs, _ = topo_graphs.read_graphs(topo_graphs.graph_files(root, "train"))

    def draws(seed):
        ds = topo_graphs.topo_dataset(graphs, training=True, seed=seed, use_features=False).take(36)
        return [(int(np.argmax(x["target"])), int(np.sum(y["node_mask"]))) for x, y in ds]

    first = draws(0)
    assert first == draws(0) and first != draws(1)
    assert len({t for t, _ in first}) > 10 and all(t < n for t, n in first)  # padded slots are never targets


def test_generated_labels_are_shortest_path_successors(fixture):
    """The generator's optimal_actions are the Bellman-Ford next hops on the true graph, every target."""
    _, written = fixture
    for graph in written[:3]:
        pos = graph["positions"][:, :2]
        lengths = np.linalg.norm(pos[:, None] - pos[None], axis=-1).astype(np.float32)
        costs = bellman_ford.edge_costs(np.repeat(lengths[None], 32, 0), np.repeat(graph["ground_adj_mat"][None], 32, 0))
        dist, hops = (np.asarray(x) for x in bellman_ford.shortest_distances(costs, np.eye(32, dtype=np.float32)))
        np.testing.assert_array_equal(hops.T, graph["optimal_actions"])  # row = target
        np.testing.assert_allclose(dist.T, graph["global_distance_matrix"], rtol=1e-5)


def test_pth_files_convert_to_the_npz_layout(tmp_path):
    import torch

    from tools import topoplan_pth_to_npz

    src, dst = str(tmp_path / "pth"), str(tmp_path / "npz")
    os.makedirs(os.path.join(src, "train"))
    graph = random_graph(np.random.default_rng(2))
    torch.save({**{k: torch.from_numpy(v) for k, v in graph.items()}, "scene": "unused"}, os.path.join(src, "train", "a.pth"))
    with open(os.path.join(src, "train", "b.pth"), "wb") as f:
        f.write(b"broken")
    result = topoplan_pth_to_npz.convert(src, dst)
    assert result["train"][0] == 1 and len(result["train"][1]) == 1 and "b.pth" in result["train"][1][0]
    graphs, skipped = topo_graphs.read_graphs(topo_graphs.graph_files(dst, "train"))
    assert skipped == 0
    for key in ("optimal_actions", "predicted_adj_mat", "features"):
        np.testing.assert_array_equal(graphs[key][0], graph[key])

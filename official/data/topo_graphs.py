"""TopoPlan's topological-map graphs (Zenodo 4003445, `graph_data3_distance_weights`), converted to .npz.

The archive holds ROOT/{train,val}/*.pth, one torch-pickled dict per graph; `tools/topoplan_pth_to_npz.py`
(where torch is installed) writes each as a .npz with the same keys, which this reader takes (spec card
topo_planning.md "Data"):
  positions (N, 4)               x, y, sin(theta), cos(theta); only x, y are used
  features (N, F)                per-node visual feature (F = 512)
  optimal_actions (N, N) int     [i, t]: next node from i towards target t
  predicted_adj_mat (N, N)       predicted edge probabilities;  ground_adj_mat (N, N) 0/1 true edges
  global_distance_matrix (N, N)  shortest distances;  path_length_mat (N, N) hop counts ([t, i] is read)
  weight_mat (N, N)              optional per-node loss weights (absent: ones); resnet_features ignored
As graph_dataset.py: files sorted by name, the first `data_limit`; the local distances are recomputed from
positions[:, :2] (Euclidean, / max with `normalize`); one target per access, uniform over the nodes
(training: a stateless draw seeded by (seed, element counter), so runs repeat), or every target of every
graph (evaluation). Graphs with fewer than `max_nodes` nodes are zero-padded, with `node_mask` marking the
real ones. A missing key or a wrong shape is a one-line `TopoGraphError` naming the file and key; an
unreadable file, non-finite values or actions outside the graph are counted, logged and skipped.
"""

from __future__ import annotations

import glob
import logging
import os
import zipfile

import numpy as np

from official.core.errors import PathNotFoundError, UserError

log = logging.getLogger(__name__)

MATRICES = ("optimal_actions", "predicted_adj_mat", "ground_adj_mat", "global_distance_matrix", "path_length_mat")
KEYS = ("positions", "features", *MATRICES)  # weight_mat is optional
WEIGHT_CLIP = 1000.0  # graph_dataset.py: min(weight_mat[:, target], 1000)


class TopoGraphError(UserError, ValueError):
    """A graph file lacks a key or has a wrong shape, or the folder is missing (the message names them)."""


def graph_files(root: str, split: str, data_limit: int = 0) -> list[str]:
    """Sorted ROOT/SPLIT/*.npz, the first `data_limit` (0 = all); a missing or empty folder is an error."""
    folder = os.path.join(root, split)
    if not os.path.isdir(folder):
        raise PathNotFoundError(f"{folder}: no such folder (expected ROOT/{{train,val}}/*.npz graph files)")
    files = sorted(glob.glob(os.path.join(folder, "*.npz")))
    if not files:
        raise TopoGraphError(f"{folder}: no .npz graph files (convert the .pth files with tools/topoplan_pth_to_npz.py)")
    if data_limit:
        if data_limit > len(files):
            raise TopoGraphError(f"{folder}: data_limit {data_limit} > {len(files)} graph files")
        files = files[:data_limit]
    return files


def _shape_error(path: str, key: str, value: np.ndarray, want: str) -> TopoGraphError:
    return TopoGraphError(f"{path}: key '{key}' has shape {value.shape}, expected {want}")


def load_graph(path: str, max_nodes: int = 32, feature_dim: int | None = 512) -> tuple[dict[str, np.ndarray] | None, str]:
    """(the graph padded to `max_nodes`, "") or (None, reason) for a bad record; schema errors raise.
    feature_dim None accepts any feature width (a model with features off does not read them)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in KEYS if k not in data.files]
            if missing:
                raise TopoGraphError(f"{path}: missing key '{missing[0]}' (a graph has {', '.join(KEYS)})")
            raw = {k: np.asarray(data[k]) for k in (*KEYS, "weight_mat") if k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        if isinstance(err, TopoGraphError):
            raise
        return None, f"unreadable ({type(err).__name__})"
    pos = raw["positions"]
    if pos.ndim != 2 or pos.shape[1] not in (2, 4) or not 1 <= pos.shape[0] <= max_nodes:
        raise _shape_error(path, "positions", pos, f"(n <= {max_nodes}, 4)")
    n = pos.shape[0]
    feats = raw["features"]
    if feats.ndim != 2 or feats.shape[0] != n or (feature_dim is not None and feats.shape[1] != feature_dim):
        raise _shape_error(path, "features", feats, f"({n}, {feature_dim or 'F'})")
    raw.setdefault("weight_mat", np.ones((n, n), np.float32))
    for key in (*MATRICES, "weight_mat"):
        if raw[key].shape != (n, n):
            raise _shape_error(path, key, raw[key], f"({n}, {n})")
    floats = [raw[k].astype(np.float64) for k in ("positions", "features", *MATRICES, "weight_mat")]
    if not all(np.all(np.isfinite(v)) for v in floats):
        return None, "non-finite values"
    actions = raw["optimal_actions"]
    if actions.min() < 0 or actions.max() >= n:
        return None, f"optimal_actions outside 0..{n - 1}"
    out = {"node_mask": np.zeros(max_nodes, np.float32), "num_nodes": np.int32(n)}
    out["node_mask"][:n] = 1.0
    pad = max_nodes - n
    out["positions"] = np.pad(pos[:, :2].astype(np.float32), ((0, pad), (0, 0)))
    out["features"] = np.pad(raw["features"].astype(np.float32), ((0, pad), (0, 0)))
    for key in (*MATRICES, "weight_mat"):
        dtype = np.int32 if key in ("optimal_actions", "path_length_mat") else np.float32
        out[key] = np.pad(raw[key].astype(dtype), ((0, pad), (0, pad)))
    return out, ""


def read_graphs(files: list[str], max_nodes: int = 32, feature_dim: int | None = 512) -> tuple[dict[str, np.ndarray], int]:
    """All valid graphs stacked {key: (G, ...)} and the number skipped (logged with reasons and examples)."""
    graphs, bad = [], []
    for path in files:
        graph, reason = load_graph(path, max_nodes, feature_dim)
        if graph is None:
            bad.append(f"{os.path.basename(path)} ({reason})")
        else:
            graphs.append(graph)
    if bad:
        log.warning("%s: skipped %d of %d graph files: %s", os.path.dirname(files[0]), len(bad), len(files),
                    ", ".join(bad[:5]) + (" ..." if len(bad) > 5 else ""))
    if not graphs:
        raise TopoGraphError(f"{os.path.dirname(files[0])}: none of {len(files)} graph files is readable")
    return {k: np.stack([g[k] for g in graphs]) for k in graphs[0]}, len(bad)


def eval_pairs(num_nodes: np.ndarray) -> np.ndarray:
    """(graph, target) for every real node of every graph, (P, 2) int32."""
    return np.array([(g, t) for g, n in enumerate(num_nodes) for t in range(int(n))], np.int32).reshape(-1, 2)


def topo_dataset(graphs: dict[str, np.ndarray], training: bool, seed: int = 0, use_probs: bool = True,
                 normalize: bool = True, use_features: bool = True, all_targets: bool = False,
                 shuffle_buffer: int = 100_000):
    """(inputs, targets) per (graph, target), see the module docstring; infinite and shuffled when training.

    all_targets: every (graph, target) pair once per pass; else one target per graph, drawn anew at each
    access when training (graph_dataset.py) and fixed by (seed, graph) for evaluation (repeatable scores).
    """
    import tensorflow as tf

    table = {k: tf.constant(v) for k, v in graphs.items()}
    count = len(graphs["num_nodes"])
    seed64 = tf.constant(seed, tf.int64)

    def draw(g, k):
        n = tf.gather(table["num_nodes"], g)
        return tf.random.stateless_uniform([], seed=tf.stack([seed64, k]), maxval=n, dtype=tf.int32)

    if all_targets:
        pairs = eval_pairs(graphs["num_nodes"])
        ds = tf.data.Dataset.from_tensor_slices((pairs[:, 0], pairs[:, 1]))
        if training:
            ds = ds.shuffle(min(len(pairs), shuffle_buffer), seed=seed, reshuffle_each_iteration=True).repeat()
    elif training:
        ds = tf.data.Dataset.range(count).shuffle(min(count, shuffle_buffer), seed=seed, reshuffle_each_iteration=True)
        ds = tf.data.Dataset.zip((ds.repeat(), tf.data.Dataset.counter()))
        ds = ds.map(lambda g, k: (tf.cast(g, tf.int32), draw(g, k)))
    else:  # a fixed target per graph: the draw keyed by -(graph + 1) never meets a training counter
        ds = tf.data.Dataset.range(count).map(lambda g: (tf.cast(g, tf.int32), draw(g, -g - 1)))

    def example(g, t):
        one = {k: tf.gather(v, g) for k, v in table.items()}
        return graph_example(one, t, use_probs, normalize, use_features)

    return ds.map(example, num_parallel_calls=tf.data.AUTOTUNE)


def graph_example(graph: dict, target, use_probs: bool, normalize: bool, use_features: bool):
    """One graph and target index -> (inputs, targets) as graph_dataset.py's __getitem__ builds them."""
    import tensorflow as tf

    mask = graph["node_mask"]
    pair = mask[:, None] * mask[None, :]
    pos = graph["positions"]
    lengths = tf.norm(pos[:, None, :] - pos[None, :, :], axis=-1) * pair  # compute_local_distances2
    distances = lengths / tf.maximum(tf.reduce_max(lengths), 1e-12) if normalize else lengths
    n = tf.shape(mask)[0]
    one_hot = tf.one_hot(target, n, dtype=tf.float32)
    linkage = graph["predicted_adj_mat"] if use_probs else graph["ground_adj_mat"]
    inputs = {"distances": distances, "linkages": linkage * pair, "target": one_hot, "node_mask": mask}
    if use_features:
        inputs["features"] = graph["features"]
    targets = {
        "actions": graph["optimal_actions"][:, target],
        "weights": tf.minimum(graph["weight_mat"][:, target], WEIGHT_CLIP),
        "path_lengths": graph["path_length_mat"][target],  # graph_dataset.py reads the target's row
        "node_mask": mask,
        "target_index": target,
        "ground_adj": graph["ground_adj_mat"],
        "lengths": lengths,
        "shortest": graph["global_distance_matrix"][:, target],
    }
    return inputs, targets

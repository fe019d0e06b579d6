"""The `topo_planning` Task: graph files -> next-node training, planning metrics, planner SavedModels.

Data: official/data/topo_graphs.py (converted .npz graphs). The model owns its loss (losses.py).
Evaluation (official/evaluation/planning.py): action accuracy, PAcc_2..6, and rollout success / SPL of the
learned planner (argmax of the logits) and of the symbolic baseline, Dijkstra (exact Bellman-Ford,
official/ops/bellman_ford.py) on the edges the planner sees with probability >= task.baseline_threshold.
Serving, N = 32 slots with node_mask (1 = real node):
  serving_default(distances, linkages, target, node_mask[, features]) -> logits (B, N, N), distance (B, N, 1),
      next_node (B, N) int32: the model's own inputs;
  plan(positions (B, N, 2), linkages, target_index (B,) int32, node_mask[, features]) -> next_node, logits:
      local distances computed as the reader does (Euclidean, / max when normalize);
  bellman_ford(positions, linkages, target_index, node_mask) -> distance (B, N) (1e6 = unreachable),
      reachable (B, N) bool, next_node (B, N) int32 (-1 unreachable): the symbolic planner.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ConfigError
from official.core.registry import register_task
from official.core.task import Task
from official.data import topo_graphs
from official.evaluation.planning import PlanningMetrics
from official.ops import bellman_ford
from research.geometry.topo_planning import losses
from research.geometry.topo_planning.config import TopoGraphDataConfig, TopoPlanTaskConfig

PLANNERS = ("planner", "dijkstra")


@register_task("topo_planning")
class TopoPlanTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, TopoPlanTaskConfig):
            raise ConfigError("task: topo_planning needs a TopoPlanTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), TopoGraphDataConfig):
                raise ConfigError(f"{key}: topo_planning needs a TopoGraphDataConfig (path, split, data_limit, ...)")
        self._graphs: dict[tuple, dict] = {}
        self._skipped: dict[tuple, int] = {}

    # --- data --------------------------------------------------------------------------------
    @property
    def num_nodes(self) -> int:
        return int(getattr(self.config.model, "num_nodes", 32))

    @property
    def feature_dim(self) -> int:
        return int(getattr(self.config.model, "feature_dim", 512))

    def graphs(self, data: TopoGraphDataConfig) -> dict[str, np.ndarray]:
        key = (data.path, data.split, data.data_limit)
        if key not in self._graphs:
            files = topo_graphs.graph_files(data.path, data.split, data.data_limit)
            self._graphs[key], self._skipped[key] = topo_graphs.read_graphs(
                files, self.num_nodes, self.feature_dim or None)
        return self._graphs[key]

    def skipped_examples(self) -> int:
        return sum(self._skipped.values())

    def num_examples(self, data) -> int | None:
        nodes = self.graphs(data)["num_nodes"]
        return int(nodes.sum()) if data.all_targets else len(nodes)

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ds = topo_graphs.topo_dataset(self.graphs(data), training, self.config.runtime.seed, data.use_probs,
                                      data.normalize, self.feature_dim > 0, data.all_targets, data.shuffle_buffer)
        if input_context is not None and input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        return ds.batch(batch, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return None  # the model's compute_loss (losses.weighted_action_loss)

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def input_names(self) -> tuple[str, ...]:
        names = ("distances", "linkages", "target", "node_mask")
        return (*names, "features") if self.feature_dim else names

    def score(self, predict_fn, dataset, steps: int | None = None) -> dict[str, float]:
        """Metrics of predict_fn(inputs) -> logits (B, N, N) over `dataset` (module docstring)."""
        metrics = PlanningMetrics(PLANNERS)
        threshold, loss_sum, nodes = self.config.task.baseline_threshold, 0.0, 0.0
        for i, (inputs, targets) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            logits = np.asarray(predict_fn({k: inputs[k] for k in self.input_names()}))
            t = {k: np.asarray(v) for k, v in targets.items()}
            real = float(t["node_mask"].sum())
            loss_sum += float(losses.weighted_action_loss(logits, t["actions"], t["weights"], t["node_mask"])) * real
            nodes += real
            metrics.update_accuracy(logits, t["actions"], t["path_lengths"], t["node_mask"])
            common = (t["target_index"], t["ground_adj"], t["lengths"], t["shortest"], t["node_mask"])
            metrics.update_rollouts("planner", np.argmax(logits, -1), *common)
            costs = bellman_ford.edge_costs(t["lengths"], np.asarray(inputs["linkages"]), threshold, t["node_mask"])
            _, hops = bellman_ford.shortest_distances(costs, np.asarray(inputs["target"]))
            metrics.update_rollouts("dijkstra", np.asarray(hops), *common)
        return {"loss": loss_sum / max(nodes, 1.0), **metrics.result()}

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)

        @tf.function(reduce_retracing=True)
        def predict(inputs):
            return network(inputs, training=False)["logits"]

        return self.score(predict, dataset, steps)

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        """predict_fn: the model's input dict -> logits (B, N, N) (saved_model_predict_fn gives one)."""
        self.check_tide(tide)
        return self.score(predict_fn, dataset, steps)

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]
        return lambda inputs: serve(**{k: tf.constant(v, tf.float32) for k, v in inputs.items()})["logits"].numpy()

    # --- export ------------------------------------------------------------------------------
    def serving_signatures(self, model, image_size: int) -> dict:
        n, f = self.num_nodes, self.feature_dim
        normalize = self.config.eval_data.normalize
        square = tf.TensorSpec([None, n, n], tf.float32, name="linkages")
        mask = tf.TensorSpec([None, n], tf.float32, name="node_mask")
        feats = [tf.TensorSpec([None, n, f], tf.float32, name="features")] if f else []
        model_specs = [tf.TensorSpec([None, n, n], tf.float32, name="distances"), square,
                       tf.TensorSpec([None, n], tf.float32, name="target"), mask, *feats]
        plan_specs = [tf.TensorSpec([None, n, 2], tf.float32, name="positions"), square,
                      tf.TensorSpec([None], tf.int32, name="target_index"), mask]

        def run(distances, linkages, target, node_mask, features=None):
            inputs = {"distances": distances, "linkages": linkages, "target": target, "node_mask": node_mask}
            if features is not None:
                inputs["features"] = features
            out = model(inputs, training=False)
            return {"logits": out["logits"], "distance": out["distance"],
                    "next_node": tf.argmax(out["logits"], -1, output_type=tf.int32)}

        def plan(positions, linkages, target_index, node_mask, features=None):
            lengths, one_hot = planning_inputs(positions, target_index, node_mask)
            distances = lengths / tf.maximum(tf.reduce_max(lengths, axis=[1, 2], keepdims=True), 1e-12) if normalize else lengths
            pair = node_mask[:, :, None] * node_mask[:, None, :]
            out = run(distances, linkages * pair, one_hot, node_mask, features)
            return {"next_node": out["next_node"], "logits": out["logits"]}

        def symbolic(positions, linkages, target_index, node_mask):
            lengths, one_hot = planning_inputs(positions, target_index, node_mask)
            costs = bellman_ford.edge_costs(lengths, linkages, self.config.task.baseline_threshold, node_mask)
            dist = bellman_ford.relax(costs, one_hot, n - 1)
            return {"distance": dist, "reachable": dist < bellman_ford.UNREACHABLE,
                    "next_node": bellman_ford.next_hops(costs, dist, one_hot)}

        return {"serving_default": (run, model_specs), "plan": (plan, plan_specs + feats),
                "bellman_ford": (symbolic, plan_specs)}

    def _examples(self, batch: int) -> dict[str, np.ndarray]:
        """Random complete graphs: positions, the model inputs built from them and target indices."""
        rng = np.random.default_rng(0)
        n = self.num_nodes
        pos = rng.uniform(0, 10, (batch, n, 2)).astype(np.float32)
        target = rng.integers(0, n - 3, batch).astype(np.int32)  # real in every example
        lengths, one_hot = (np.asarray(x) for x in planning_inputs(pos, target, np.ones((batch, n), np.float32)))
        ex = {"positions": pos, "target_index": target, "node_mask": np.ones((batch, n), np.float32),
              "linkages": rng.uniform(0, 1, (batch, n, n)).astype(np.float32), "target": one_hot,
              "distances": lengths / lengths.max(axis=(1, 2), keepdims=True) if self.config.eval_data.normalize else lengths,
              "lengths": lengths}
        ex["node_mask"][0, n - 3:] = 0.0  # one padded graph among the examples
        if self.feature_dim:
            ex["features"] = rng.normal(size=(batch, n, self.feature_dim)).astype(np.float32)
        return ex

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        ex = self._examples(1)
        return [("serving_default", {k: ex[k] for k in self.input_names()}) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        ex = self._examples(max(2, min(n, 4)))
        ex["node_mask"][0] = 1.0  # the model-input check: complete graphs, the plan check: one padded
        inputs = {k: ex[k] for k in self.input_names()}
        out = {k: np.asarray(v) for k, v in model(inputs, training=False).items()}
        served = {"logits": out["logits"], "distance": out["distance"], "next_node": np.argmax(out["logits"], -1)}
        plan_in = {k: ex[k] for k in ("positions", "linkages", "target_index", "node_mask")}
        padded = self._examples(len(ex["positions"]))
        plan_in["node_mask"] = padded["node_mask"]
        pair = padded["node_mask"][:, :, None] * padded["node_mask"][:, None, :]
        lengths = ex["lengths"] * pair
        model_in = dict(inputs, node_mask=padded["node_mask"], linkages=ex["linkages"] * pair,
                        distances=lengths / lengths.max(axis=(1, 2), keepdims=True) if self.config.eval_data.normalize else lengths)
        if self.feature_dim:
            plan_in["features"] = ex["features"]
        logits = np.asarray(model(model_in, training=False)["logits"])
        costs = bellman_ford.edge_costs(ex["lengths"], ex["linkages"], self.config.task.baseline_threshold, padded["node_mask"])
        dist = np.asarray(bellman_ford.relax(costs, ex["target"], self.num_nodes - 1))
        hops = np.asarray(bellman_ford.next_hops(costs, dist, ex["target"]))
        bf_in = {k: plan_in[k] for k in ("positions", "linkages", "target_index", "node_mask")}
        return [("serving_default", inputs, served),
                ("plan", plan_in, {"logits": logits, "next_node": np.argmax(logits, -1)}),
                ("bellman_ford", bf_in, {"distance": dist, "reachable": dist < bellman_ford.UNREACHABLE, "next_node": hops})]

    def verification_inputs(self, num_examples: int, image_size: int):
        ex = self._examples(max(1, min(num_examples, 4)))
        return {k: ex[k] for k in self.input_names()}


def planning_inputs(positions, target_index, node_mask):
    """(Euclidean lengths (B, N, N) between real nodes, target one-hot (B, N)) from x, y positions."""
    positions = tf.convert_to_tensor(positions, tf.float32)
    node_mask = tf.convert_to_tensor(node_mask, tf.float32)
    diff = positions[:, :, None, :] - positions[:, None, :, :]
    lengths = tf.sqrt(tf.reduce_sum(tf.square(diff), -1)) * node_mask[:, :, None] * node_mask[:, None, :]
    return lengths, tf.one_hot(target_index, tf.shape(positions)[1], dtype=tf.float32)

"""The `occupancy` Task: ONet-layout data, BCE on query occupancies, IoU, meshes and the serving signatures.

Training: ({"points": (B, N, 3), "queries": (B, T, 3)}, occupancy (B, T)) from official/data/onet_shapes.py,
loss = BCE with logits summed over the queries, averaged over the batch; validation metric: IoU at
occupancy 0.2. `evaluate` adds, for the first `task.mesh_shapes` eval shapes, MISE (32 -> 128) +
marching cubes meshes scored against the ground-truth surface cloud by official/evaluation/mesh_metrics.py
(Chamfer-L1, normal consistency, F-score at 1%). Serving (SavedModel): serving_default
(points, queries) -> {logits, probabilities}; encode (points) -> features; decode (features, queries)
-> {logits}. TFLite holds the decoder (research/three_d/conv_onet/export.py).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.task import Task
from official.data import onet_shapes
from official.evaluation import mesh_extraction
from research.three_d.conv_onet import losses
from research.three_d.conv_onet.config import OccupancyTaskConfig, OnetDataConfig


def reader_for(data: OnetDataConfig) -> onet_shapes.OnetReader:
    return onet_shapes.OnetReader(
        data.path, data.split, tuple(data.categories), data.points_file, data.pointcloud_file, data.multi_files,
        data.input_points, data.input_noise, data.query_points, data.eval_points, data.unpackbits)


def mesh_scores(verts: np.ndarray, faces: np.ndarray, gt_points: np.ndarray, gt_normals: np.ndarray,
                count: int, fscore_threshold: float, seed: int = 0) -> dict[str, float]:
    """Chamfer-L1, normal consistency and F-score of a mesh against a surface cloud (ONet eval_meshes.py,
    official/evaluation/mesh_metrics.py; an empty mesh scores ONet's maxima)."""
    import trimesh

    from official.evaluation import mesh_metrics

    mesh = trimesh.Trimesh(verts, faces, process=False)
    points, normals = mesh_metrics.sample_mesh(mesh, count, np.random.default_rng(seed))
    out = mesh_metrics.mesh_distances(points, normals, gt_points, gt_normals, thresholds=(fscore_threshold,))
    return {"chamfer_l1": float(out["chamfer_l1"]), "normal_consistency": float(out["normal_consistency"]),
            "fscore": float(out[f"fscore@{fscore_threshold:g}"])}


def extract(model: keras.Model, points: np.ndarray, threshold: float, resolution0: int = 32, steps: int = 2,
            padding: float = 0.1) -> tuple[np.ndarray, np.ndarray, int]:
    """Mesh (vertices, faces) of one shape's (N, 3) input cloud by MISE + marching cubes; + points evaluated."""
    feats = model.encode(points[None])
    decode = tf.function(lambda q: model.decode(feats, q[None])[0], reduce_retracing=True)

    def evaluate(query):
        return np.asarray(decode(tf.constant(query)))

    box = 1.0 + padding
    level = losses.logit(threshold)
    if steps == 0:
        values = mesh_extraction.dense_values(evaluate, resolution0, box)
        evaluated = values.size
    else:
        values, evaluated = mesh_extraction.mise(evaluate, resolution0, steps, level, box)
    verts, faces = mesh_extraction.extract_mesh(values, level, box)
    return verts, faces, evaluated


@registry.register_task("occupancy")
class OccupancyTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, OccupancyTaskConfig):
            raise ConfigError("task: occupancy needs an OccupancyTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), OnetDataConfig):
                raise ConfigError(f"{key}: occupancy needs an OnetDataConfig (path, split, input_points, ...)")
        self._readers: dict[int, onet_shapes.OnetReader] = {}

    def reader(self, data: OnetDataConfig) -> onet_shapes.OnetReader:
        if id(data) not in self._readers:
            self._readers[id(data)] = reader_for(data)
        return self._readers[id(data)]

    # --- data --------------------------------------------------------------------------------
    def num_examples(self, data) -> int | None:
        return len(self.reader(data))

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        return self.reader(data).dataset(training, global_batch_size, self.config.runtime.seed, input_context)

    def skipped_examples(self) -> int:
        return sum(r.skipped() for r in self._readers.values())

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self) -> Any:
        return losses.occupancy_loss

    def build_metrics(self) -> list[Any]:
        return [losses.OccupancyIoU(self.config.task.threshold)]

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        predict = tf.function(lambda x: network(x, training=False), reduce_retracing=True)
        metrics = self._score(lambda x: predict(x), dataset, steps)
        metrics.update(self.mesh_metrics(network))
        return metrics

    def _score(self, predict_fn, dataset, steps=None) -> dict[str, float]:
        iou, loss = losses.OccupancyIoU(self.config.task.threshold), keras.metrics.Mean(name="loss")
        for i, (inputs, occ) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            logits = predict_fn(inputs)
            iou.update_state(occ, logits)
            loss.update_state(losses.occupancy_loss(occ, logits))
        return {"iou": float(iou.result()), "loss": float(loss.result())}

    def mesh_metrics(self, network) -> dict[str, float]:
        """Mean Chamfer-L1 / normal consistency / F-score of the first task.mesh_shapes eval meshes."""
        t = self.config.task
        reader = self.reader(self.config.eval_data)
        count = len(reader) if t.mesh_shapes < 0 else min(t.mesh_shapes, len(reader))
        rows = []
        for i in range(count):
            inputs, _, _, ok = reader.example(i, i, training=False)
            if not ok:
                continue
            verts, faces, _ = extract(network, inputs, t.threshold, t.mesh_resolution0, t.mesh_upsampling_steps,
                                      network.encoder.padding)
            gt_points, gt_normals = reader.surface(i, t.mesh_points)
            rows.append(mesh_scores(verts, faces, gt_points, gt_normals, t.mesh_points, t.fscore_threshold, i))
        if not rows:
            return {}
        return {f"mesh_{k}": float(np.mean([r[k] for r in rows])) for k in rows[0]} | {"mesh_shapes": len(rows)}

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        return self._score(lambda x: predict_fn({k: np.asarray(v) for k, v in x.items()}), dataset, steps)

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]
        return lambda x: serve(points=tf.constant(x["points"]), queries=tf.constant(x["queries"]))["logits"].numpy()

    # --- export ------------------------------------------------------------------------------
    def _input_points(self) -> int:
        return self.config.eval_data.input_points

    def serving_signatures(self, model, image_size: int) -> dict:
        n = self._input_points()
        shapes = model.feature_shapes()
        points = tf.TensorSpec([None, n, 3], tf.float32, name="points")
        queries = tf.TensorSpec([None, None, 3], tf.float32, name="queries")
        feats = [tf.TensorSpec([None, *s], tf.float32, name=k) for k, s in shapes.items()]

        def full(points, queries):
            logits = model({"points": points, "queries": queries}, training=False)
            return {"logits": logits, "probabilities": tf.sigmoid(logits)}

        def encode(points):
            return dict(model.encode(points))

        def decode(*args):
            *values, q = args
            return {"logits": model.decode(dict(zip(shapes, values, strict=True)), q)}

        return {"serving_default": (full, [points, queries]), "encode": (encode, [points]),
                "decode": (decode, [*feats, queries])}

    def _examples(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Sphere-surface inputs and uniform queries (no dataset needed to export)."""
        rng = np.random.default_rng(0)
        pts = rng.normal(size=(n, self._input_points(), 3))
        pts = 0.35 * pts / np.linalg.norm(pts, axis=-1, keepdims=True)
        return pts.astype(np.float32), rng.uniform(-0.55, 0.55, (n, 256, 3)).astype(np.float32)

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        pts, q = self._examples(1)
        return [("serving_default", {"points": pts, "queries": q}) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        pts, q = self._examples(min(n, 2))
        feats = {k: np.asarray(v) for k, v in model.encode(pts).items()}
        logits = np.asarray(model.decode(feats, q))
        return [("serving_default", {"points": pts, "queries": q}, {"logits": logits}),
                ("encode", {"points": pts}, feats),
                ("decode", {**feats, "queries": q}, {"logits": logits})]

    def export_body(self, model):
        return model.decoder_model(batch=1, queries=256)

    def verification_inputs(self, num_examples: int, image_size: int):
        pts, q = self._examples(1)
        return pts, q

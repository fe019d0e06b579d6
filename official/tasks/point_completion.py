"""The point-cloud completion Task: PCN / Completion3D inputs, the model's own loss, CD / EMD / F-score.

Inputs are partial clouds (batch, num_partial, 3), targets complete clouds (batch, num_complete, 3).
Networks return a dict with at least "fine" (the completed cloud) and compute their own objective
(`compute_loss`, e.g. coarse + fine Chamfer), so this task compiles without a Keras loss.
Metrics (per example, averaged): `cd_l2_x1e4` = Completion3D's Chamfer-L2 x 10^4 (squared distances,
mean_a min + mean_b min), `cd_l1_x1e3` = PCN's form (mean Euclidean nearest distances, averaged over the
two directions) x 10^3, `emd` = mean matched Euclidean distance of the exact bijection (scipy Hungarian,
official/evaluation/point_metrics.emd_exact) on `emd_points` random points of each cloud, `fscore` at `task.fscore_threshold` (official/evaluation/point_metrics.py).
Serving: partial (batch, num_partial, 3) float32 -> {coarse, fine} (static point counts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ConfigError
from official.core.registry import register_task
from official.core.task import Task
from official.data import point_completion
from official.data.image_decode import SkipCounter
from official.tasks.point_completion_config import CompletionDataConfig, CompletionTaskConfig


def completion_metrics(pred: np.ndarray, gt: np.ndarray, fscore_threshold: float, emd_points: int,
                       seed: int = 0) -> dict[str, np.ndarray]:
    """Per-example metrics of pred (B, P, 3) against gt (B, M, 3): cd_l2_x1e4, cd_l1_x1e3, fscore, emd."""
    from official.evaluation.point_metrics import emd_exact, fscore
    from official.losses.chamfer import nearest_sq_distances

    d_pg, d_gp = (np.asarray(d, np.float64) for d in nearest_sq_distances(pred.astype(np.float32), gt.astype(np.float32)))
    out = {
        "cd_l2_x1e4": 1e4 * (d_pg.mean(1) + d_gp.mean(1)),
        "cd_l1_x1e3": 1e3 * 0.5 * (np.sqrt(d_pg).mean(1) + np.sqrt(d_gp).mean(1)),
        "fscore": np.array([fscore(p, g, fscore_threshold)[0] for p, g in zip(pred, gt, strict=True)]),
    }
    if emd_points:  # the exact bijection (Hungarian): an evaluation metric, not a training loss
        rng = np.random.default_rng(seed)
        n = min(emd_points, pred.shape[1], gt.shape[1])
        out["emd"] = np.array([emd_exact(p[rng.choice(len(p), n, replace=False)], g[rng.choice(len(g), n, replace=False)])[0]
                               for p, g in zip(pred, gt, strict=True)])
    return out


@register_task("point_completion")
class PointCompletionTask(Task):
    """Partial point cloud -> complete point cloud (PCN, Completion3D)."""

    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, CompletionTaskConfig):
            raise ConfigError("task: point_completion needs a CompletionTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), CompletionDataConfig):
                raise ConfigError(f"{key}: point_completion needs a CompletionDataConfig (split, num_partial, num_complete)")
        self.skipped = SkipCounter("unreadable_completion_records")

    # --- data --------------------------------------------------------------------------------
    def dataset(self, data: CompletionDataConfig, training: bool) -> tf.data.Dataset:
        """Unbatched (partial, complete) pairs of a data section."""
        return point_completion.completion_dataset(data.source, data.path, data.split, data.num_partial,
                                                   data.num_complete, training, self.config.runtime.seed, self.skipped)

    def build_inputs(self, data, training, global_batch_size, input_context=None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ds = self.dataset(data, training)
        if input_context and input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        if training:
            ds = ds.repeat()
        return ds.batch(batch, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

    def num_examples(self, data) -> int | None:
        return len(point_completion.list_examples(data.source, data.path, data.split))

    # --- objective: the network's compute_loss ------------------------------------------------
    def build_losses(self) -> Any:
        return None

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def evaluate_predict_fn(self, predict_fn: Callable, dataset, steps=None, tide: bool = False,
                            predictions_out: str | None = None) -> dict[str, float]:
        """Mean metrics of `predict_fn(partial) -> fine (B, P, 3)` (or a dict holding "fine")."""
        self.check_tide(tide)
        if predictions_out:
            raise NotImplementedError("point_completion writes no predictions file")
        cfg = self.config.task
        per: dict[str, list] = {}
        for i, (partial, complete) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            pred = predict_fn(np.asarray(partial))
            pred = np.asarray(pred["fine"] if isinstance(pred, dict) else pred)
            for k, v in completion_metrics(pred, np.asarray(complete), cfg.fscore_threshold, cfg.emd_points, i).items():
                per.setdefault(k, []).append(v)
        metrics = {k: float(np.mean(np.concatenate(v))) for k, v in per.items()}
        metrics["examples"] = float(sum(len(v) for v in per.get("cd_l2_x1e4", [])))
        metrics["skipped_records"] = float(self.skipped.count)
        return metrics

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        return self.evaluate_predict_fn(lambda x: model(x, training=False), dataset, steps, tide, predictions_out)

    def saved_model_predict_fn(self, loaded) -> Callable[[np.ndarray], np.ndarray]:
        signature = loaded.signatures["serving_default"]
        return lambda partial: signature(partial=tf.constant(partial, tf.float32))["fine"].numpy()

    # --- export ------------------------------------------------------------------------------
    def _num_points(self, model: keras.Model) -> int:
        return int(model.inputs[0].shape[1])

    def export_body(self, model: keras.Model) -> keras.Model:
        """TFLite holds partial -> fine (one output)."""
        return keras.Model(model.input, model.output["fine"], name="completion_fine")

    def serving_signatures(self, model: keras.Model, image_size: int) -> dict[str, tuple[Callable, list]]:
        """serving_default: partial (batch, num_points, 3) float32 -> coarse, fine."""
        del image_size

        def serve(partial: tf.Tensor) -> dict[str, tf.Tensor]:
            out = model(partial, training=False)
            return {"coarse": tf.cast(out["coarse"], tf.float32), "fine": tf.cast(out["fine"], tf.float32)}

        spec = tf.TensorSpec([None, self._num_points(model), 3], tf.float32, name="partial")
        return {"serving_default": (serve, [spec])}

    def _partials(self, data, count: int) -> np.ndarray:
        batches = [np.asarray(p) for p, _ in self.dataset(data, False).take(max(count, 1)).batch(max(count, 1))]
        return batches[0][:count]

    def verification_inputs(self, num_examples: int, image_size: int) -> np.ndarray:
        return self._partials(self.config.eval_data, min(num_examples, 4))

    def serving_verification(self, model: keras.Model, num_examples: int, image_size: int) -> list:
        partial = self.verification_inputs(num_examples, image_size)
        out = model(partial, training=False)
        return [("serving_default", {"partial": partial}, {k: np.asarray(out[k]) for k in ("coarse", "fine")})]

    def warmup_inputs(self, image_size: int, count: int) -> list[tuple[str, dict]]:
        partial = self.verification_inputs(max(count, 1), image_size)
        return [("serving_default", {"partial": partial[i:i + 1]}) for i in range(min(count, len(partial)))]

    def representative_dataset(self, num_examples: int, image_size: int) -> Iterable[list[np.ndarray]]:
        for p in self._partials(self.config.train_data, min(num_examples, 8)):
            yield [p[None]]

    def quantized_agreement(self, reference, quantized) -> float | None:
        return None

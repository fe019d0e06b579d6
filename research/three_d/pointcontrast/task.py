"""The `pointcontrast` Task: ScanNet-pair inputs, correspondence top-1 evaluation, the backbone's serving signature.

Inputs: `(x, y)` with x = {coords0, feats0, mask0, coords1, feats1, mask1} (batch, V, ...) and
y = {matches (batch, V, max_matches)}; pairs.py builds them from the reader of official/data/scannet_pairs.py.
Training draws fresh rotations and jitter per pair and epoch; evaluation uses fixed per-pair seeds (the
same rotations every time) and no jitter. Metric (`tools.evaluate`): correspondence top-1 (metrics.py).
Serving: `serving_default(coords (N, V, 3) int32, feats (N, V, in) float32, mask (N, V) float32)` ->
`features` (N, V, out): the backbone on a padded voxel set; the exported graph builds the kernel maps itself.
"""

from __future__ import annotations

import logging
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.task import Task
from official.data import scannet_pairs
from research.three_d.pointcontrast import metrics, pairs
from research.three_d.pointcontrast.config import PairDataConfig, PointContrastTaskConfig

log = logging.getLogger(__name__)


@registry.register_task("pointcontrast")
class PointContrastTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, PointContrastTaskConfig):
            raise ConfigError("task: pointcontrast needs a PointContrastTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), PairDataConfig):
                raise ConfigError(f"{key}: pointcontrast needs a PairDataConfig (pair_list, voxel_size, capacity)")
        self.readers: list[scannet_pairs.PairReader] = []

    def num_examples(self, data: PairDataConfig) -> int | None:
        return len(scannet_pairs.PairReader(data.path, data.pair_list))

    def pair_dataset(self, data: PairDataConfig, training: bool, input_context: Any = None) -> tf.data.Dataset:
        """Processed single pairs (unbatched); endless and shuffled when training."""
        reader = scannet_pairs.PairReader(data.path, data.pair_list)
        self.readers.append(reader)
        seed = self.config.runtime.seed
        n = len(reader)
        shards = (input_context.num_input_pipelines, input_context.input_pipeline_id) if input_context else (1, 0)

        def order():
            epoch = 0
            while True:
                ids = np.random.default_rng(seed + epoch).permutation(n) if training else np.arange(n)
                yield from reader.generate(ids[shards[1]::shards[0]])
                if not training:
                    return
                epoch += 1

        spec = {"points0": tf.TensorSpec([None, 3], tf.float32), "points1": tf.TensorSpec([None, 3], tf.float32),
                "index": tf.TensorSpec([], tf.int32)}
        ds = tf.data.Dataset.from_generator(order, output_signature=spec)
        if training:
            ds = ds.enumerate()  # a fresh seed per drawn pair: new rotations every epoch
        else:
            ds = ds.map(lambda e: (tf.cast(e["index"], tf.int64), e))

        def process(i, example):
            return pairs.process_pair(example, tf.stack([tf.cast(seed, tf.int64), i]), data.voxel_size, data.capacity,
                                      data.max_matches, data.match_multiplier, data.rotation_range,
                                      data.jitter and training, data.coord_bits)

        return ds.map(process, num_parallel_calls=tf.data.AUTOTUNE, deterministic=data.deterministic or not training)

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ds = self.pair_dataset(data, training, input_context)

        def split(p):
            x = {k: p[k] for k in ("coords0", "feats0", "mask0", "coords1", "feats1", "mask1")}
            return x, {"matches": p["matches"], "points0": p["points0"], "points1": p["points1"]}

        return ds.map(split).batch(batch, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

    def skipped_examples(self) -> int:
        return sum(r.skipped for r in self.readers)

    # --- evaluation ----------------------------------------------------------------------------
    def build_losses(self) -> Any:
        return None

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, jit_compile=jit_compile)

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        """Correspondence top-1 over the eval pairs (seeded query draws; metrics.py)."""
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        forward = tf.function(lambda inputs: network(inputs, training=False), reduce_retracing=True)
        return self.evaluate_predict_fn(forward, dataset, steps)

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        rng = np.random.default_rng(self.config.runtime.seed)
        n = self.config.eval_data.eval_pairs_per_sample
        correct = queries = 0
        for i, (x, y) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            f0 = np.asarray(predict_fn(pairs.network_inputs(x, 0)))
            f1 = np.asarray(predict_fn(pairs.network_inputs(x, 1)))
            for b in range(len(f0)):
                c, q = metrics.correspondence_hits(f0[b], f1[b], np.asarray(y["matches"][b]),
                                                   np.asarray(x["mask0"][b]) > 0.5, n, rng)
                correct, queries = correct + c, queries + q
        return {"correspondence_top1": correct / max(queries, 1), "queries": float(queries)}

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]
        return lambda inputs: serve(**{k: tf.constant(v) for k, v in inputs.items()})["features"].numpy()

    # --- export --------------------------------------------------------------------------------
    def serving_signatures(self, model: keras.Model, image_size: int) -> dict:
        v, c = self.config.eval_data.capacity, model.in_channels

        def serve(coords, feats, mask):
            return {"features": model({"coords": coords, "feats": feats, "mask": mask}, training=False)}

        return {"serving_default": (serve, [tf.TensorSpec([None, v, 3], tf.int32, name="coords"),
                                            tf.TensorSpec([None, v, c], tf.float32, name="feats"),
                                            tf.TensorSpec([None, v], tf.float32, name="mask")])}

    def example_inputs(self, n: int, in_channels: int = 3) -> dict[str, np.ndarray]:
        """Random padded voxel sets: a 3/4-full capacity of distinct voxels in a 24^3 box, ones + noise features."""
        v = self.config.eval_data.capacity
        rng = np.random.default_rng(0)
        coords = np.zeros((n, v, 3), np.int32)
        mask = np.zeros((n, v), np.float32)
        for b in range(n):
            cells = rng.choice(24**3, min(3 * v // 4, 24**3), replace=False)
            coords[b, : len(cells)] = np.stack(np.unravel_index(cells, (24, 24, 24)), -1)
            mask[b, : len(cells)] = 1
        feats = (1 + 0.1 * rng.normal(size=(n, v, in_channels))).astype(np.float32) * mask[..., None]
        return {"coords": coords, "feats": feats, "mask": mask}

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        return [("serving_default", self.example_inputs(1)) for _ in range(n)]

    def serving_verification(self, model: keras.Model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        inputs = self.example_inputs(min(n, 2), model.in_channels)
        return [("serving_default", inputs, {"features": np.asarray(model(inputs, training=False))})]

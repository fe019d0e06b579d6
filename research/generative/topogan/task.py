"""The `topology_generation` task: unconditional generation of grayscale structure images from noise, trained
with `training.method: gan` (objective `topogan`), scored by topology.

Batches (official/data/topology_images.py): {"image": (B, 64, 64, 1) in [-1, 1], "diagram": (B, P, 2),
"diagram_count": (B,), "z": (B, latent) standard normal, stateless in (seed, batch index, pipeline)}.
Evaluation: `task.eval_samples` images from fixed noise against the eval split: the unsupervised topology
scores (official/evaluation/topology_metrics.py) and FID/KID on `task.features` (pixels16: a proxy).
Serving: `serving_default` (z: float32 (B, latent)) -> {image: float [-1, 1]}, `generate_uint8` -> uint8.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from official.core import registry
from official.data import topology_images
from official.evaluation import gan_features, gan_metrics, topology_metrics
from official.tasks.adversarial_task import AdversarialTask
from official.tasks.image_translation import to_uint8
from research.generative.topogan import objective  # noqa: F401  (registers the objective)
from research.generative.topogan.task_config import TopologyDataConfig, TopologyTaskConfig


@registry.register_task("topology_generation")
class TopologyGenerationTask(AdversarialTask):
    TASK_NAME, TASK_CONFIG, DATA_CONFIG = "topology_generation", TopologyTaskConfig, TopologyDataConfig
    DATA_FIELDS, OBJECTIVE_HINT = "path, split, crop_size", "training.objective=topogan"

    @property
    def latent_dim(self) -> int:
        return int(getattr(self.config.model, "latent_dim", 128))

    def num_examples(self, data: TopologyDataConfig) -> int:
        return len(topology_images.read_examples(data.path, data.split, data.max_points)[0])

    def build_inputs(self, data: TopologyDataConfig, training: bool, global_batch_size: int, input_context: Any = None):
        seed = int(self.config.runtime.seed or 0)
        ds = topology_images.topology_dataset(data.path, data.split, int(data.crop_size[0]), data.max_points, training,
                                              seed, self._counter())
        per_replica = global_batch_size
        pipeline = 0
        if input_context is not None:
            per_replica = input_context.get_per_replica_batch_size(global_batch_size)
            pipeline = input_context.input_pipeline_id
            ds = ds.shard(input_context.num_input_pipelines, pipeline)
        ds = ds.batch(per_replica, drop_remainder=training)
        latent = self.latent_dim

        def add_noise(i, batch):
            n = tf.shape(batch["image"])[0]
            z = tf.random.stateless_normal([n, latent], tf.stack([tf.cast(i, tf.int32), seed * 1009 + pipeline]))
            return {**batch, "z": z}

        return ds.enumerate().map(add_noise).prefetch(tf.data.AUTOTUNE)

    # --- evaluation --------------------------------------------------------------------------
    def eval_noise(self) -> np.ndarray:
        t: TopologyTaskConfig = self.config.task
        return np.random.default_rng(t.eval_seed).standard_normal((t.eval_samples, self.latent_dim)).astype(np.float32)

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        return self.evaluate_predict_fn(lambda z: network(z, training=False), dataset, steps)

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]
        return lambda z: serve(z=tf.constant(z, tf.float32))["image"]

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        t: TopologyTaskConfig = self.config.task
        reals = []
        for i, batch in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            reals.append(batch["image"].numpy())
        reals = np.concatenate(reals)
        noise = self.eval_noise()
        fakes = np.concatenate([np.asarray(predict_fn(noise[i:i + 32])) for i in range(0, len(noise), 32)])
        results: dict[str, Any] = topology_metrics.topology_scores(fakes, reals, t.dimension, t.min_persistence)
        if t.features:
            features = gan_features.feature_fn(t.features, t.feature_weights)
            to3 = lambda x: np.repeat(x, 3, axis=-1)  # noqa: E731  (the feature extractors take RGB)
            fake_f, real_f = features(to3(fakes)), features(to3(reals))
            results["fid"] = gan_metrics.fid_from_features(real_f, fake_f)
            results["kid"], results["kid_std"] = gan_metrics.kid_from_features(
                real_f, fake_f, t.kid_subsets, t.kid_subset_size, int(self.config.runtime.seed or 0))
        results.update(images_fake=int(len(fakes)), images_real=int(len(reals)))
        return results

    # --- export ------------------------------------------------------------------------------
    def serving_signatures(self, model, image_size: int) -> dict:
        def generate(z):
            return {"image": model(z, training=False)}

        def generate_uint8(z):
            return {"image": to_uint8(model(z, training=False))}

        spec = [tf.TensorSpec([None, self.latent_dim], tf.float32, name="z")]
        return {"serving_default": (generate, spec), "generate_uint8": (generate_uint8, spec)}

    def _examples(self, n: int) -> np.ndarray:
        return self.eval_noise()[:n] if self.config.task.eval_samples >= n else \
            np.random.default_rng(0).standard_normal((n, self.latent_dim)).astype(np.float32)

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        return [("serving_default", {"z": self._examples(1)}) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        z = self._examples(min(max(n, 1), 2))
        return [("serving_default", {"z": z}, {"image": np.asarray(model(z, training=False))})]

    def verification_inputs(self, num_examples: int, image_size: int):
        return self._examples(min(max(num_examples, 1), 2))

    def representative_dataset(self, num_examples: int, image_size: int):
        for z in self._examples(min(num_examples, 8)):
            yield [z[None]]

    def quantized_agreement(self, reference, quantized) -> float | None:
        return float(np.mean(np.abs(np.asarray(reference) - np.asarray(quantized)) <= 0.1))

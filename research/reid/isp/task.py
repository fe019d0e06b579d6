"""The `isp_reid` Task: Market-1501-layout data, re-ID evaluation (mAP, CMC) and the serving signatures.

Evaluation embeds query and gallery with the inference-mode network and ranks the gallery by squared
Euclidean distance between L2-normalised 2,048-d test features (TEST.FEAT_NORM yes, R1_mAP), scored by
official/evaluation/reid.py (Market-1501 protocol). With `task.with_arm` it also reports the
visibility-aware distance of distance.py as arm_mAP / arm_rank1 / ... (TEST.WITH_ARM).
Serving: float images (batch, H, W, 3) on the 0-255 scale -> {embedding, part_map, visibility}.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.task import Task
from official.data import market1501, pk_sampler
from official.evaluation import reid as reid_eval
from research.reid.isp import distance, inputs
from research.reid.isp.config import ISPTaskConfig, ReidDataConfig


@registry.register_task("isp_reid")
class ISPReidTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, ISPTaskConfig):
            raise ConfigError("task: isp_reid needs an ISPTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), ReidDataConfig):
                raise ConfigError(f"{key}: isp_reid needs a ReidDataConfig (height, width, num_instances)")

    # --- data --------------------------------------------------------------------------------
    def train_split(self) -> market1501.ReidSplit:
        return market1501.list_split(self.config.train_data.path, "train")

    def label_paths(self, split: market1501.ReidSplit) -> list[str]:
        return inputs.pseudo_label_paths(self.config.train_data.path, self.config.task.pseudo_label_subdir, split.paths)

    def num_examples(self, data: ReidDataConfig) -> int | None:
        if data is self.config.train_data:
            return pk_sampler.epoch_length(self.train_split().pids, data.num_instances)
        return len(self._eval_lists(data)[0])

    def _eval_lists(self, data: ReidDataConfig) -> tuple[list[str], dict[str, np.ndarray]]:
        query = market1501.list_split(data.path, "query")
        gallery = market1501.list_split(data.path, "gallery")
        extras = {
            "pid": np.concatenate([query.pids, gallery.pids]),
            "camid": np.concatenate([query.camids, gallery.camids]),
            "is_query": np.concatenate([np.ones(len(query), bool), np.zeros(len(gallery), bool)]),
        }
        return query.paths + gallery.paths, extras

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        if training:
            split = self.train_split()
            t = self.config.trainer
            steps = t.train_steps or t.epochs * max(pk_sampler.epoch_length(split.pids, data.num_instances) // global_batch_size, 1)
            epochs = inputs.epochs_for(steps, global_batch_size, pk_sampler.epoch_length(split.pids, data.num_instances))
            return inputs.train_dataset(data, split, self.label_paths(split), global_batch_size, epochs,
                                        self.config.runtime.seed, input_context)
        paths, extras = self._eval_lists(data)
        return inputs.eval_dataset(data, paths, extras, global_batch_size)

    def clustering_inputs(self, batch: int) -> tuple[market1501.ReidSplit, tf.data.Dataset]:
        """The training images in list order with the test transform (the official clustering_loader)."""
        split = self.train_split()
        return split, inputs.eval_dataset(self.config.train_data, split.paths, {"index": np.arange(len(split))}, batch)

    # --- objective: the `isp` training method's compute_loss ---------------------------------
    def build_losses(self) -> Any:
        return None

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def embed(self, model: keras.Model, dataset, steps: int | None = None) -> dict[str, np.ndarray]:
        """Runs the inference-mode network over `dataset`: features, embedding, visibility, pid, camid, is_query."""
        network = getattr(model, "inference_model", model)
        keep = ("embedding", "features", "visibility")
        out: dict[str, list] = {k: [] for k in (*keep, "pid", "camid", "is_query")}
        for i, (images, extras) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            pred = network(images, training=False)
            for k in keep:
                out[k].append(np.asarray(pred[k]))
            for k in ("pid", "camid", "is_query"):
                out[k].append(np.asarray(extras[k]))
        return {k: np.concatenate(v) for k, v in out.items()}

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        """Metrics of an exported artifact: `predict_fn(normalised images)` gives the embedding (TFLite) or
        the serving dict (SavedModel); ARM needs the visibility, so only the SavedModel reports arm_*.
        The per-part cosines of ARM do not change under the embedding's common L2 scale."""
        self.check_tide(tide)
        out: dict[str, list] = {k: [] for k in ("embedding", "visibility", "pid", "camid", "is_query")}
        for i, (images, extras) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            pred = predict_fn(np.asarray(images))
            if isinstance(pred, dict):
                out["visibility"].append(np.asarray(pred["visibility"]))
                pred = pred["embedding"]
            out["embedding"].append(np.asarray(pred))
            for k in ("pid", "camid", "is_query"):
                out[k].append(np.asarray(extras[k]))
        emb = {k: np.concatenate(v) for k, v in out.items() if v}
        emb["features"] = emb["embedding"]
        return self.metrics_from_embeddings(emb, arm="visibility" in emb)

    def saved_model_predict_fn(self, loaded):
        """serving_default takes 0-255 pixels: the eval pipeline's normalisation is undone first."""
        data = self.config.eval_data
        serve = loaded.signatures["serving_default"]

        def predict(images):
            pixels = np.asarray(images) * np.array(data.std, np.float32) + np.array(data.mean, np.float32)
            return {k: v.numpy() for k, v in serve(images=tf.constant(pixels, tf.float32)).items()}

        return predict

    def metrics_from_embeddings(self, emb: dict[str, np.ndarray], arm: bool = True) -> dict[str, float]:
        q, g = emb["is_query"], ~emb["is_query"]
        ids = (emb["pid"][q], emb["pid"][g], emb["camid"][q], emb["camid"][g])
        dist = reid_eval.distance_matrix(emb["embedding"][q], emb["embedding"][g], "euclidean")
        res = reid_eval.evaluate_rank(dist, *ids)
        metrics = {k: float(res[k]) for k in ("mAP", "rank1", "rank5", "rank10")}
        if arm and self.config.task.with_arm:
            parts, gf = distance.split_features(emb["features"], self.config.task.part_num)
            arm = reid_eval.evaluate_rank(distance.visibility_aware_distance(
                parts[q], gf[q], emb["visibility"][q], parts[g], gf[g], emb["visibility"][g]), *ids)
            metrics.update({f"arm_{k}": float(arm[k]) for k in ("mAP", "rank1", "rank5", "rank10")})
        return metrics

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        return self.metrics_from_embeddings(self.embed(model, dataset, steps))

    # --- export ------------------------------------------------------------------------------
    def _size(self) -> tuple[int, int]:
        return self.config.eval_data.height, self.config.eval_data.width

    def export_body(self, model: keras.Model) -> keras.Model:
        """TFLite holds the retrieval path: image (normalised) -> embedding (its converter checks one output)."""
        return keras.Model(model.input, model.output["embedding"], name="isp_embedding")

    def serving_signatures(self, model: keras.Model, image_size: int) -> dict:
        h, w = self._size()
        served = model.serving_model()
        data = self.config.eval_data

        def from_pixels(images):
            out = served(inputs.normalize(tf.cast(images, tf.float32), data.mean, data.std), training=False)
            return {k: tf.cast(v, tf.float32) for k, v in out.items()}

        return {"serving_default": (from_pixels, [tf.TensorSpec([None, h, w, 3], tf.float32, name="images")])}

    def _pixels(self, n: int) -> np.ndarray:
        h, w = self._size()
        return np.random.default_rng(0).uniform(0, 255, size=(n, h, w, 3)).astype(np.float32)

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        return [("serving_default", {"images": self._pixels(1)}) for _ in range(n)]

    def serving_verification(self, model: keras.Model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        pixels = self._pixels(min(n, 4))
        served = model.serving_model()
        data = self.config.eval_data
        want = served(((pixels - np.array(data.mean)) / np.array(data.std)).astype(np.float32), training=False)
        return [("serving_default", {"images": pixels}, {k: np.asarray(v) for k, v in want.items()})]

    def verification_inputs(self, num_examples: int, image_size: int) -> np.ndarray:
        data = self.config.eval_data
        return ((self._pixels(min(num_examples, 4)) - np.array(data.mean)) / np.array(data.std)).astype(np.float32)

    def representative_dataset(self, num_examples: int, image_size: int):
        for x in self.verification_inputs(num_examples, image_size):
            yield [x[None]]

    def quantized_agreement(self, reference, quantized) -> float | None:
        """Cosine similarity of int8 embeddings with Keras', averaged (the ranking depends on directions)."""
        ref, got = np.asarray(reference, np.float64), np.asarray(quantized, np.float64)
        cos = np.sum(ref * got, 1) / np.maximum(np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1), 1e-12)
        return float(np.mean(cos))

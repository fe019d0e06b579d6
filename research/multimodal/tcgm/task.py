"""The `tcgm` Task: aligned multi-view features -> semi-supervised view classifiers, accuracy, SavedModels.

Data: official/data/multiview_csd.py (.csd feature files) or official/data/newsgroups.py (20news-bydate tree ->
TF-IDF column blocks, the vectorizer fitted on the training split); official/data/multiview.py streams them.
Training needs `training.method: tcgm` (method.py). Evaluation (main.py test()): accuracy of each view's
classifier and of the fusion, as fractions (official/evaluation/multiview_accuracy.py).
Serving (SavedModel, fixed widths, a view mask for missing modalities):
    serving_default(view_0 (B, d_0), ..., modality_mask (B, M) in {0, 1}) -> {probabilities (B, C) (the Bayes
        fusion of the present views; the prior when none is), view_probabilities (B, M, C), class_id (B,)}
    view_<m>(view_<m> (B, d_m)) -> {probabilities (B, C), class_id (B,)}: each modality's classifier alone.
TFLite body: one (B, sum d_m + M) input = the views then the mask, concatenated -> fused probabilities (B, C).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ConfigError
from official.core.errors import BadValueError
from official.core.registry import register_task
from official.core.task import Task
from official.data import multiview, multiview_csd, newsgroups
from official.evaluation.multiview_accuracy import MultiViewAccuracy
from research.multimodal.tcgm import losses
from research.multimodal.tcgm.config import MultiViewDataConfig, TcgmTaskConfig
from research.multimodal.tcgm.model import FuseViews


@register_task("tcgm")
class TcgmTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, TcgmTaskConfig):
            raise ConfigError("task: tcgm needs a TcgmTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), MultiViewDataConfig):
                raise ConfigError(f"{key}: tcgm needs a MultiViewDataConfig (source, path, split, views)")
        if config.task.class_prior not in ("model", "labeled"):
            raise ConfigError(f"task.class_prior: expected model or labeled, got {config.task.class_prior!r}")
        self._arrays: dict[tuple, tuple] = {}
        self._skipped: dict[tuple, int] = {}

    # --- data --------------------------------------------------------------------------------
    @property
    def view_dims(self) -> tuple[int, ...]:
        return tuple(self.config.model.view_dims)

    def arrays(self, data: MultiViewDataConfig) -> tuple[list[np.ndarray], np.ndarray]:
        """([view (N, d_m) float32], labels (N,)) of a data section, read once."""
        key = (data.source, data.path, data.split, data.views, data.labels, data.categories, data.feature_split,
               data.remove)
        if key not in self._arrays:
            num_views, c = len(self.view_dims), self.config.task.num_classes
            if data.source == "csd":
                if len(data.views) != num_views:
                    raise ConfigError(f"views: {len(data.views)} view files {data.views} for a model of {num_views} views")
                views, labels, _, skipped = multiview_csd.load_views(data.path, data.split, data.views, data.labels, c)
                self._skipped[key] = sum(skipped.values())
            elif data.source == "newsgroups":
                train_docs, _, _, skip_train = newsgroups.read_bydate(data.path, "train", data.categories, data.remove)
                docs, labels, _, skipped = newsgroups.read_bydate(data.path, data.split, data.categories, data.remove)
                views = newsgroups.tfidf_views(train_docs, docs, num_views, data.feature_split)
                self._skipped[key] = sum(skipped.values())
            else:
                raise ConfigError(f"source: expected csd or newsgroups, got {data.source!r}")
            widths = tuple(v.shape[1] for v in views)
            if widths != self.view_dims:
                raise ConfigError(f"model.view_dims: {self.view_dims} but {data.path} ({data.split}) has views of {widths}")
            self._arrays[key] = (views, labels)
        return self._arrays[key]

    def skipped_examples(self) -> int:
        return sum(self._skipped.values())

    def num_examples(self, data) -> int | None:
        return len(self.arrays(data)[1])

    def num_labeled(self, data) -> int:
        n = self.num_examples(data)
        return n if data.num_labeled < 0 else min(data.num_labeled, n)

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        shard = (input_context.num_input_pipelines, input_context.input_pipeline_id) if input_context else (1, 0)
        views, labels = self.arrays(data)
        if training:
            if batch < len(self.view_dims):
                raise BadValueError(f"trainer.global_batch_size: the TC term needs >= {len(self.view_dims)} instances "
                                    f"per replica batch, got {batch}")
            return multiview.semi_supervised_dataset(views, labels, data.num_labeled, batch, data.shuffle,
                                                     self.config.runtime.seed, shard).prefetch(tf.data.AUTOTUNE)
        ds = multiview.examples_dataset(views, labels)
        if shard[0] > 1:
            ds = ds.shard(*shard)
        return ds.batch(batch).prefetch(tf.data.AUTOTUNE)

    # --- model and objective -------------------------------------------------------------------
    def build_model(self) -> keras.Model:
        if self.config.training.method != "tcgm":
            raise ConfigError(f"training.method: the tcgm task trains with method tcgm, got {self.config.training.method!r}")
        cfg = self.config.model
        if self.config.task.class_prior == "labeled":
            _, labels = self.arrays(self.config.train_data)
            counts = np.bincount(labels[:self.num_labeled(self.config.train_data)], minlength=self.config.task.num_classes)
            prior = (counts + 1.0) / (counts.sum() + len(counts))  # add-one: no class gets p = 0
            cfg = dataclasses.replace(cfg, class_prior=tuple(float(p) for p in prior))
        from official.core.model_files import build_network

        return build_network(cfg)

    def build_losses(self):
        return None  # the tcgm training method's steps

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def score(self, predict_fn, dataset, steps: int | None = None) -> dict[str, float]:
        """Accuracies of predict_fn(views) -> (view log-probs (B, M, C), fused (B, C)) over `dataset`."""
        metric = MultiViewAccuracy(len(self.view_dims))
        for i, (inputs, labels) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            view_scores, fused = predict_fn(inputs)
            metric.update(np.asarray(view_scores), np.asarray(fused), np.asarray(labels))
        return metric.result()

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)

        @tf.function(reduce_retracing=True)
        def predict(inputs):
            out = network(inputs, training=False)
            return out["log_probs"], out["fused_log_probs"]

        return self.score(predict, dataset, steps)

    def pack(self, inputs, mask=None) -> np.ndarray:
        """Views dict (+ mask (B, M), default all present) -> the TFLite body's (B, sum d_m + M) input."""
        views = [np.asarray(inputs[n], np.float32) for n in multiview.view_names(len(self.view_dims))]
        mask = np.ones((len(views[0]), len(views)), np.float32) if mask is None else np.asarray(mask, np.float32)
        return np.concatenate([*views, mask], axis=1)

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        """predict_fn: packed (B, sum d_m + M) -> fused probabilities (B, C); view accuracies need the per-view
        signatures, so the view columns score each view alone (mask one-hot)."""
        self.check_tide(tide)
        m = len(self.view_dims)

        def predict(inputs):
            n = len(np.asarray(inputs["view_0"]))
            fused = np.log(np.maximum(predict_fn(self.pack(inputs)), 1e-30))
            views = [np.asarray(predict_fn(self.pack(inputs, np.tile(np.eye(m)[k], (n, 1))))) for k in range(m)]
            return np.log(np.maximum(np.stack(views, 1), 1e-30)), fused

        return self.score(predict, dataset, steps)

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]
        dims = self.view_dims

        def predict(packed):
            packed = np.asarray(packed, np.float32)
            starts = np.cumsum((0, *dims))
            feeds = {f"view_{k}": tf.constant(packed[:, starts[k]:starts[k + 1]]) for k in range(len(dims))}
            return serve(**feeds, modality_mask=tf.constant(packed[:, starts[-1]:]))["probabilities"].numpy()

        return predict

    # --- export ------------------------------------------------------------------------------
    def serving_signatures(self, model, image_size: int) -> dict:
        dims, m = self.view_dims, len(self.view_dims)
        specs = [tf.TensorSpec([None, d], tf.float32, name=f"view_{k}") for k, d in enumerate(dims)]
        mask_spec = tf.TensorSpec([None, m], tf.float32, name="modality_mask")
        prior = model.prior()

        def serve(*args):
            views, mask = args[:m], args[m]
            out = model({f"view_{k}": v for k, v in enumerate(views)}, training=False)
            fused = losses.fuse_log_probs(out["log_probs"], prior, mask)
            return {"probabilities": tf.exp(fused), "view_probabilities": tf.exp(out["log_probs"]),
                    "class_id": tf.argmax(fused, axis=-1)}

        signatures = {"serving_default": (serve, [*specs, mask_spec])}
        for k in range(m):
            signatures[f"view_{k}"] = (self._view_fn(model, k), [specs[k]])
        return signatures

    def _view_fn(self, model, k: int):
        dims = self.view_dims

        def one_view(x):
            # the other views' classifiers run on zeros and are masked out: one graph, no sub-model to build
            feeds = {f"view_{j}": (x if j == k else tf.zeros([tf.shape(x)[0], d])) for j, d in enumerate(dims)}
            log_probs = model(feeds, training=False)["log_probs"][:, k]
            return {"probabilities": tf.exp(log_probs), "class_id": tf.argmax(log_probs, axis=-1)}

        return one_view

    def _examples(self, n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        rng = np.random.default_rng(0)
        views = {f"view_{k}": rng.uniform(0, 1, (n, d)).astype(np.float32) for k, d in enumerate(self.view_dims)}
        mask = np.ones((n, len(self.view_dims)), np.float32)
        mask[1::2, 0] = 0.0  # every other example lacks its first view
        if n > 2:
            mask[2, :] = 0.0  # and one has none (-> the prior)
        return views, mask

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        views, mask = self._examples(1)
        return [("serving_default", {**views, "modality_mask": mask}) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        views, mask = self._examples(max(3, min(n, 8)))
        out = model(views, training=False)
        fused = np.asarray(losses.fuse_log_probs(out["log_probs"], model.prior(), mask))
        view_probs = np.exp(np.asarray(out["log_probs"]))
        checks = [("serving_default", {**views, "modality_mask": mask},
                   {"probabilities": np.exp(fused), "view_probabilities": view_probs,
                    "class_id": np.argmax(fused, -1)})]
        for k in range(len(self.view_dims)):
            checks.append((f"view_{k}", {f"view_{k}": views[f"view_{k}"]},
                           {"probabilities": view_probs[:, k], "class_id": np.argmax(view_probs[:, k], -1)}))
        return checks

    def export_body(self, model):
        """TFLite body: (B, sum d_m + M) packed views and mask -> fused probabilities (B, C)."""
        dims, m = self.view_dims, len(self.view_dims)
        packed = keras.Input((sum(dims) + m,), name="views_and_mask")
        starts = np.cumsum((0, *dims))
        views = {f"view_{k}": keras.layers.Lambda(lambda t, a=int(starts[k]), b=int(starts[k + 1]): t[:, a:b],
                                                  name=f"slice_view{k}")(packed) for k in range(m)}
        mask = keras.layers.Lambda(lambda t, a=int(starts[-1]): t[:, a:], name="slice_mask")(packed)
        out = model(views)
        a = model.constructor_args
        fused = FuseViews(tuple(a["class_prior"]), a["num_classes"], name="fuse_masked")(out["log_probs"], mask)
        probs = keras.layers.Activation("exponential", name="probabilities")(fused)
        return keras.Model(packed, probs, name="tcgm_tflite")

    def verification_inputs(self, num_examples: int, image_size: int):
        views, mask = self._examples(max(3, min(num_examples, 8)))
        return self.pack(views, mask)

    def representative_dataset(self, num_examples: int, image_size: int):
        for row in self.verification_inputs(num_examples, image_size):
            yield [row[None]]

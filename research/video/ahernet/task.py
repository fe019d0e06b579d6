"""The `temporal_detection` task: ActivityNet-format untrimmed videos (+ trimmed moments) in, 1-D detections out.

Training elements are ({"features" (T, D), "moments" (Tm, D), "moment_labels", "ratio", "position"},
{"segments" (S, 2) in steps, "labels" (S,), "video_label"}); the `aher` method (method.py) turns them into
its losses. Evaluation runs `AherNet.detect` (decode, scale to the duration, NMS) on every eval video and
scores the detections with the ActivityNet mAP at tIoU 0.50:0.05:0.95 against the eval JSON
(official/evaluation/activitynet_detection.py, equal to the official eval_detection.py). The SavedModel's
`serving_default` takes features (batch, T, D) + duration (batch,) seconds and returns segments,
scores, classes and num_detections, NMS inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.file_io import write_json
from official.core.task import Task
from official.data import activitynet, video_moments
from official.evaluation.activitynet_detection import evaluate_detection
from research.video.ahernet.config import TemporalDataConfig, TemporalDetectionTaskConfig


@registry.register_task("temporal_detection")
class TemporalDetectionTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, TemporalDetectionTaskConfig):
            raise ConfigError("task: temporal_detection needs a TemporalDetectionTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), TemporalDataConfig):
                raise ConfigError(f"{key}: temporal_detection needs a TemporalDataConfig (path, feature_dir, moments)")
        self._classes: list[str] | None = None
        self.skipped: dict[str, int] = {}

    # --- data ------------------------------------------------------------------------------------
    def classes(self) -> list[str]:
        """Class names (id = position): the sorted labels of the training JSON and the moments CSV."""
        if self._classes is None:
            data = self.config.train_data
            names = {a["label"] for e in activitynet.read_json(data.path).get("database", {}).values()
                     if isinstance(e, dict) for a in e.get("annotations", []) if isinstance(a, dict) and "label" in a}
            if data.moments:
                import csv

                with open(data.moments, newline="") as f:
                    names |= {row["label"] for row in csv.DictReader(f) if row.get("label")}
            self._classes = sorted(names)
            if len(self._classes) > self.config.task.num_classes:
                raise ConfigError(f"task.num_classes: {self.config.task.num_classes}, but {data.path} and "
                                  f"{data.moments or 'no moments'} name {len(self._classes)} classes")
        return self._classes

    def videos(self, data: TemporalDataConfig) -> activitynet.ActivityNetVideos:
        videos = activitynet.load_videos(data.path, data.subset, self.classes(), data.feature_dir, data.feature_dim)
        for reason, n in videos.skipped.items():
            self.skipped[f"{data.subset}/{reason}"] = n
        return videos

    def num_examples(self, data) -> int | None:
        return len(self.videos(data).records)

    def _moments(self, data: TemporalDataConfig, seed: int):
        moments = video_moments.load_moments(data.moments, data.moment_feature_dir, self.classes(), data.feature_dim)
        ds = tf.data.Dataset.from_tensor_slices((moments.paths, moments.labels))
        ds = ds.shuffle(len(moments.paths), seed=seed).repeat()

        def load(path, label):
            raw = activitynet.parse_feature_csv(tf.io.read_file(path), data.feature_dim)
            return activitynet.resample_features(raw, data.moment_length), label

        return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        seed = self.config.runtime.seed
        ds = activitynet.activitynet_dataset(self.videos(data), data.feature_dim, data.temporal_length,
                                             data.max_segments)
        if data.cache:
            ds = ds.cache()
        if input_context is not None and training:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        if not training:
            def split_eval(item):
                return ({"features": item["features"], "duration": item["duration"]},
                        {"video_id": item["video_id"], "segments": item["segments"], "labels": item["labels"]})

            return ds.map(split_eval).batch(batch).prefetch(tf.data.AUTOTUNE)
        ds = ds.shuffle(min(data.shuffle_buffer, 100_000), seed=seed, reshuffle_each_iteration=True).repeat()
        if data.moments:
            ds = tf.data.Dataset.zip((ds, self._moments(data, seed)))
        else:  # no moments: the untrimmed features' first steps stand in (localisation-only runs)
            ds = ds.map(lambda item: (item, (item["features"][: data.moment_length], item["labels"][0])))
        lo, hi = data.ratio_range
        # one seed per example from a seeded stage: the draws below are stateless, so the parallel map gives
        # every example the same numbers in every run (a stateful op's draws go to whichever call runs first)
        ds = tf.data.Dataset.zip((ds, tf.data.Dataset.random(seed=seed)))

        def split_train(pair, example_seed):
            item, (moment, moment_label) = pair
            rand = tf.random.stateless_uniform([2], seed=tf.stack([example_seed, tf.constant(0, tf.int64)]))
            x = {"features": item["features"], "moments": moment, "moment_labels": moment_label,
                 "ratio": lo + (hi - lo) * rand[0], "position": rand[1]}
            y = {"segments": item["segments"], "labels": item["labels"], "video_label": item["labels"][0]}
            return x, y

        return ds.map(split_train, num_parallel_calls=tf.data.AUTOTUNE).batch(batch, drop_remainder=True).prefetch(2)

    # --- objective -------------------------------------------------------------------------------
    def build_losses(self) -> Any:
        return None  # the `aher` training method computes every term

    def compile_model(self, model, optimizer, jit_compile: bool) -> None:
        if not hasattr(model, "aher_terms"):
            raise ConfigError("training.method: temporal_detection trains with `aher` (set training.method=aher)")
        model.compile(optimizer=optimizer, jit_compile=jit_compile)

    # --- evaluation ------------------------------------------------------------------------------
    def detections(self, detect_fn, dataset, steps: int | None = None) -> dict:
        """{"results": {video_id: [{label, score, segment}]}} of `detect_fn(features, duration)`."""
        classes, results = self.classes(), {}
        for i, (x, y) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            out = {k: np.asarray(v) for k, v in detect_fn(x["features"], x["duration"]).items()}
            for b, vid in enumerate(y["video_id"].numpy()):
                n = int(out["num_detections"][b])
                results[vid.decode()] = [
                    {"label": classes[int(c)] if int(c) < len(classes) else f"class_{int(c)}", "score": float(s),
                     "segment": [float(seg[0]), float(seg[1])]}
                    for seg, s, c in zip(out["segments"][b, :n], out["scores"][b, :n], out["classes"][b, :n], strict=True)]
        return {"version": "VERSION 1.3", "external_data": {}, "results": results}

    def score(self, predictions: dict, predictions_out: str | None = None) -> dict[str, Any]:
        data = self.config.eval_data
        if predictions_out:
            write_json(predictions, predictions_out)
        result = evaluate_detection(activitynet.read_ground_truth(data.path), predictions, subset=data.subset)
        metrics = result.as_dict()
        flat = {f"mAP@{k}": v for k, v in metrics["mAP"].items()}
        return {"average_mAP": metrics["average_mAP"], **flat}

    def _detect_fn(self, model):
        from official.training.method import inference_model

        net = inference_model(model)
        t = self.config.task
        # one traced graph for every batch (the NMS loop is slow op by op)
        return tf.function(lambda f, d: net.detect(f, d, t.max_detections, t.nms_threshold, t.use_class_scores),
                           reduce_retracing=True)

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        return self.score(self.detections(self._detect_fn(model), dataset, steps), predictions_out)

    def evaluate_saved_model(self, loaded, global_batch_size, steps=None, tide=False, predictions_out=None):
        serve = loaded.signatures["serving_default"]
        dataset = self.build_inputs(self.config.eval_data, False, global_batch_size)
        return self.score(self.detections(lambda f, d: serve(features=f, duration=d), dataset, steps), predictions_out)

    # --- export ----------------------------------------------------------------------------------
    def serving_signatures(self, model, image_size: int) -> dict:
        t = self.config.task
        spec = [tf.TensorSpec([None, model.temporal_length, model.feature_dim], tf.float32, name="features"),
                tf.TensorSpec([None], tf.float32, name="duration")]

        def serve(features, duration):
            return model.detect(features, duration, t.max_detections, t.nms_threshold, t.use_class_scores)

        return {"serving_default": (serve, spec)}

    def _inputs(self, n: int) -> dict:
        m = self.config.model
        rng = np.random.default_rng(0)
        return {"features": rng.normal(size=(n, m.temporal_length, m.feature_dim)).astype(np.float32),
                "duration": rng.uniform(30, 120, n).astype(np.float32)}

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        return [("serving_default", self._inputs(1)) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        inputs = self._inputs(min(max(n, 1), 2))
        t = self.config.task
        out = model.detect(tf.constant(inputs["features"]), tf.constant(inputs["duration"]), t.max_detections,
                           t.nms_threshold, t.use_class_scores)
        return [("serving_default", inputs, {k: np.asarray(v) for k, v in out.items()})]

    def export_body(self, model):
        return model

    def verification_inputs(self, num_examples: int, image_size: int) -> Any:
        return self._inputs(num_examples)["features"]


"""The top-down keypoint Task: person crops in, heatmaps out, COCO keypoint AP or MPII PCKh.

Data: `official/data/keypoint_input.py` (COCO person_keypoints or MPII -> crops, multi-kernel targets,
visibility). Training batches are (crops, {"targets": (B, kernels, h, w, K), "valid": (B, K)}); the model
owns its objective through `compute_loss` (Keras 3 checks y_true against y_pred's structure, so a
per-output loss cannot see targets and visibility together), as detection models do. Evaluation runs the
model (and on the mirrored crop when `task.flip_test`), decodes with RSN's test-time rules
(`official/ops/keypoint_decode.py`) and scores with pycocotools (`official/evaluation/keypoints.py`) or
the MPII PCKh protocol (`official/evaluation/mpii_pckh.py`).

Serving (SavedModel): `serving_default(images: float32 [B, H, W, 3] RGB 0-255 person crops)` ->
heatmaps, keypoints in crop pixels, keypoint scores; `serving_image(image_bytes: string [B], boxes:
float32 [B, N, 4] person boxes (x, y, w, h), rows with w or h <= 0 are padding)` -> keypoints [B, N, K, 2] in
image pixels, keypoint_scores [B, N, K], scores [B, N] (mean keypoint score). TFLite holds the network
body: normalised BGR crop -> heatmaps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ConfigError
from official.core.file_io import write_json
from official.core.registry import register_task
from official.core.task import Task
from official.data import keypoint_input
from official.data.coco_keypoints import PersonRecords, load_coco_detections, load_coco_keypoints
from official.data.keypoint_affine import crop_affine_tf, warp_affine
from official.data.keypoint_augment import COCO_AUGMENT, MPII_AUGMENT, person_box
from official.data.keypoint_constants import COCO, MPII, KeypointSpec
from official.data.mpii import load_mpii, load_mpii_ground_truth
from official.ops.keypoint_decode import decode_heatmaps
from official.tasks.keypoints_config import KeypointDataConfig, KeypointTaskConfig  # noqa: F401  (re-exported)

SOURCES = ("coco", "mpii")


@register_task("keypoints")
class KeypointTask(Task):
    """Top-down 2D human pose estimation (see the module docstring)."""

    # --- data --------------------------------------------------------------------------------
    def _data(self, data) -> tuple[KeypointSpec, Any]:
        if data.source not in SOURCES:
            raise ConfigError(f"data.source: expected one of {SOURCES}, got {data.source!r}")
        return (COCO, COCO_AUGMENT) if data.source == "coco" else (MPII, MPII_AUGMENT)

    def spec(self) -> KeypointSpec:
        return self._data(self.config.eval_data)[0]

    def records(self, data, training: bool) -> PersonRecords:
        """The persons of `data`: ground-truth boxes, or the detections JSON for evaluation."""
        self._data(data)
        if data.source == "mpii":
            return load_mpii(data.annotations, data.path, require_joints=training)
        if data.detections and not training:
            threshold = data.detection_score_threshold or None
            return load_coco_detections(data.detections, data.path, data.annotations, score_threshold=threshold)
        return load_coco_keypoints(data.annotations, data.path)

    def build_inputs(self, data, training, global_batch_size, input_context=None):
        spec, augment = self._data(data)
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ds = keypoint_input.keypoint_dataset(
            self.records(data, training), training, spec=spec, input_size=tuple(data.input_size),
            kernels=tuple(data.kernels), augment=augment, seed=self.config.runtime.seed if training else None,
            with_targets=training,
        )
        if input_context is not None and input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        if data.cache and not training:
            ds = ds.cache()
        if training:
            ds = ds.repeat().map(lambda ex: (ex["image"], {"targets": ex["heatmaps"], "valid": ex["valid"]}))
            ds = ds.batch(batch, drop_remainder=True)
        else:
            ds = ds.batch(batch)
        return ds.prefetch(tf.data.AUTOTUNE)

    def num_examples(self, data) -> int | None:
        return len(self.records(data, True))

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return None  # the model's compute_loss (RSN: losses.keypoint_mse.rsn_loss)

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def _decoder(self) -> Callable:
        """(heatmaps, flipped heatmaps or None, center, scale) -> (keypoints (B, K, 2), scores (B, K))."""
        spec, data, task = self.spec(), self.config.eval_data, self.config.task

        def run(heatmaps, flipped, center, scale):
            return decode_heatmaps(
                heatmaps, center, scale, flipped, spec.flip_pairs if flipped is not None else None,
                input_size=tuple(data.input_size), kernel_size=task.blur_kernel,
            )

        return tf.function(run) if keras.backend.backend() == "tensorflow" else run

    def _evaluate_heatmaps(self, predict: Callable, dataset, steps: int | None, predictions_out: str | None):
        """Decodes `predict(crops) -> heatmaps` over an eval dataset and scores it."""
        decode, flip = self._decoder(), self.config.task.flip_test
        rows: dict[str, list[np.ndarray]] = {k: [] for k in ("image_id", "keypoints", "scores", "score", "area")}
        for i, x in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            images = np.asarray(x["image"])
            heatmaps = np.asarray(predict(images), np.float32)
            flipped = np.asarray(predict(images[:, :, ::-1]), np.float32) if flip else None
            keypoints, scores = decode(heatmaps, flipped, np.asarray(x["center"]), np.asarray(x["scale"]))
            for key, value in (("image_id", x["image_id"]), ("keypoints", keypoints), ("scores", scores),
                               ("score", x["score"]), ("area", x["area"])):
                rows[key].append(np.asarray(value))
        merged = {k: np.concatenate(v) if v else np.zeros((0,)) for k, v in rows.items()}
        if self.config.eval_data.source == "mpii":
            return self._pckh(merged, predictions_out)
        return self._coco(merged, steps is None, predictions_out)

    def _coco(self, rows: dict, complete: bool, predictions_out: str | None) -> dict[str, Any]:
        from official.evaluation.keypoints import KeypointCocoEvaluator

        task = self.config.task
        evaluator = KeypointCocoEvaluator(self.config.eval_data.annotations, sigmas=self.spec().sigmas)
        evaluator.add_keypoints(
            rows["image_id"], rows["keypoints"], rows["scores"], rows["score"],
            vis_thresh=task.rescore_threshold if task.rescore_threshold >= 0 else None, areas=rows["area"],
        )
        seen = sorted({int(v) for v in rows["image_id"]})
        results = evaluator.results
        if task.oks_nms_threshold > 0:
            from official.evaluation.keypoints import oks_nms_results

            results = oks_nms_results(results, task.oks_nms_threshold, evaluator.sigmas)
        if predictions_out:
            write_json(results, predictions_out)
        metrics = evaluator.evaluate(results, image_ids=None if complete else seen)
        metrics["persons"] = float(len(rows["image_id"]))
        return metrics

    def _pckh(self, rows: dict, predictions_out: str | None) -> dict[str, Any]:
        from official.evaluation.mpii_pckh import evaluate_pckh

        data = self.config.eval_data
        if predictions_out:
            write_json([{"index": int(i), "keypoints": np.concatenate([k, s[:, None]], 1).tolist()}
                        for i, k, s in zip(rows["image_id"], rows["keypoints"], rows["scores"], strict=True)],
                       predictions_out)
        if not data.ground_truth:
            raise ConfigError(f"{data.annotations}: eval_data.ground_truth (gt_valid.mat with head boxes) is needed for PCKh")
        gt = load_mpii_ground_truth(data.ground_truth)
        index = rows["image_id"].astype(np.int64)  # MPII person index = column of the PCKh ground truth
        if index.size and index.max() >= len(gt.joints):
            raise ConfigError(f"{data.ground_truth}: holds {len(gt.joints)} persons, the annotations more")
        out = evaluate_pckh(
            rows["keypoints"], np.transpose(gt.joints[index], (1, 2, 0)), np.transpose(gt.visible[index], (1, 0)),
            np.transpose(gt.headboxes[index], (1, 2, 0)),
        )
        out.pop("per_joint")
        return {**out, "persons": float(len(index))}

    def evaluate(self, model: keras.Model, dataset, steps: int | None = None, tide: bool = False,
                 predictions_out: str | None = None) -> dict[str, Any]:
        """COCO keypoint AP (or MPII PCKh) of `model` on an eval `build_inputs` dataset."""
        self.check_tide(tide)
        if keras.backend.backend() == "tensorflow":
            predict = tf.function(lambda images: model(images, training=False)["heatmaps"])
        else:

            def predict(images):
                return model(images, training=False)["heatmaps"]

        return self._evaluate_heatmaps(predict, dataset, steps, predictions_out)

    def evaluate_predict_fn(self, predict_fn: Callable, dataset, steps: int | None = None, tide: bool = False,
                            predictions_out: str | None = None) -> dict[str, Any]:
        """The same metrics from an artifact's `predict_fn(normalised crops) -> heatmaps` (TFLite body)."""
        self.check_tide(tide)
        return self._evaluate_heatmaps(predict_fn, dataset, steps, predictions_out)

    def _to_pixels(self, crops: np.ndarray) -> np.ndarray:
        """Normalised BGR crops (the pipeline's) -> RGB pixels 0-255 (what serving_default takes)."""
        from official.data.keypoint_constants import RSN_MEAN_BGR, RSN_STD_BGR

        bgr = (np.asarray(crops, np.float32) * np.asarray(RSN_STD_BGR, np.float32) + np.asarray(RSN_MEAN_BGR, np.float32))
        return bgr[..., ::-1] * 255.0

    def saved_model_predict_fn(self, loaded: Any) -> Callable:
        """serving_default (RGB pixel crops in) as a predict_fn of the pipeline's normalised crops."""
        fn = loaded.signatures["serving_default"]
        return lambda crops: fn(images=tf.constant(self._to_pixels(crops)))["heatmaps"].numpy()

    # --- export ------------------------------------------------------------------------------
    def export_body(self, model: keras.Model) -> keras.Model:
        return model.inference_model() if hasattr(model, "inference_model") else model

    def quantized_agreement(self, reference: np.ndarray, quantized: np.ndarray) -> float | None:
        """Share of keypoints whose heatmap peak moves by at most one cell (int8 check)."""
        def peaks(h):
            flat = h.reshape(h.shape[0], -1, h.shape[-1]).argmax(1)
            return np.stack([flat // h.shape[2], flat % h.shape[2]], -1)

        return float(np.mean(np.max(np.abs(peaks(reference) - peaks(quantized)), -1) <= 1))

    def _normalise(self, pixels: tf.Tensor) -> tf.Tensor:
        from official.data.keypoint_constants import RSN_MEAN_BGR, RSN_STD_BGR

        return (tf.reverse(tf.cast(pixels, tf.float32), [-1]) / 255.0 - RSN_MEAN_BGR) / RSN_STD_BGR

    def serving_signatures(self, model: keras.Model, image_size: int) -> dict[str, tuple[Callable, list]]:
        data, spec = self.config.eval_data, self.spec()
        height, width = (int(v) for v in data.input_size)
        decode = self._decoder()
        _, augment = self._data(data)

        def heatmaps_of(crops: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor | None]:
            heatmaps = model(crops, training=False)["heatmaps"]
            flipped = model(tf.reverse(crops, [2]), training=False)["heatmaps"] if self.config.task.flip_test else None
            return heatmaps, flipped

        def from_crops(images: tf.Tensor) -> dict[str, tf.Tensor]:
            heatmaps, flipped = heatmaps_of(self._normalise(images))
            n = tf.shape(images)[0]
            center = tf.tile([[width / 2.0, height / 2.0]], [n, 1])
            scale = tf.tile([[float(width), float(height)]], [n, 1])
            keypoints, scores = decode(heatmaps, flipped, center, scale)
            return {"heatmaps": heatmaps, "keypoints": keypoints, "keypoint_scores": scores}

        def crop_one(image: tf.Tensor, box: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
            """One person box (x, y, w, h) -> (normalised crop, center, scale), as the eval reader crops."""
            center, scale = person_box(box[:2] + box[2:] / 2.0, tf.maximum(box[2:], 1.0), augment, width / height)
            matrix = crop_affine_tf(center, scale, tf.constant(0.0), (height, width))
            return self._normalise(warp_affine(image, matrix, (height, width))), center, scale

        crop_spec = (tf.TensorSpec([height, width, 3], tf.float32), tf.TensorSpec([2], tf.float32),
                     tf.TensorSpec([2], tf.float32))

        def from_bytes(image_bytes: tf.Tensor, boxes: tf.Tensor) -> dict[str, tf.Tensor]:
            def per_image(args):
                image = tf.io.decode_image(args[0], channels=3, expand_animations=False, dtype=tf.uint8)
                image = tf.cast(image, tf.float32)
                return tf.map_fn(lambda b: crop_one(image, b), args[1], fn_output_signature=crop_spec)

            batched = tuple(tf.TensorSpec([None, *t.shape], t.dtype) for t in crop_spec)
            crops, center, scale = tf.map_fn(per_image, (image_bytes, boxes), fn_output_signature=batched)
            b, n = tf.shape(boxes)[0], tf.shape(boxes)[1]
            heatmaps, flipped = heatmaps_of(tf.reshape(crops, [-1, height, width, 3]))
            keypoints, scores = decode(heatmaps, flipped, tf.reshape(center, [-1, 2]), tf.reshape(scale, [-1, 2]))
            real = tf.reshape((boxes[..., 2] > 0) & (boxes[..., 3] > 0), [-1])
            keypoints = tf.where(real[:, None, None], keypoints, 0.0)
            scores = tf.where(real[:, None], scores, 0.0)
            k = spec.num_keypoints
            return {
                "keypoints": tf.reshape(keypoints, [b, n, k, 2]),
                "keypoint_scores": tf.reshape(scores, [b, n, k]),
                "scores": tf.reshape(tf.reduce_mean(scores, -1), [b, n]),
            }

        return {
            "serving_default": (from_crops, [tf.TensorSpec([None, height, width, 3], tf.float32, name="images")]),
            "serving_image": (from_bytes, [tf.TensorSpec([None], tf.string, name="image_bytes"),
                                           tf.TensorSpec([None, None, 4], tf.float32, name="boxes")]),
        }

    def _eval_crops(self, num_examples: int) -> dict[str, np.ndarray]:
        ds = self.build_inputs(self.config.eval_data, False, num_examples)
        return {k: v.numpy() for k, v in next(iter(ds)).items()}

    def _image_requests(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Encoded bytes of the first eval images with their persons' boxes, padded to one N."""
        records = self.records(self.config.eval_data, False)
        images: dict[str, list] = {}
        for path, box in zip(records.image_paths, records.bboxes, strict=True):
            if path in images or len(images) < count:
                images.setdefault(path, []).append(box)
        n = max(len(b) for b in images.values())
        boxes = np.zeros((len(images), n, 4), np.float32)
        for i, b in enumerate(images.values()):
            boxes[i, : len(b)] = b
        encoded = np.asarray([tf.io.read_file(p).numpy() for p in images], dtype=object)
        return encoded, boxes

    def serving_verification(self, model: keras.Model, num_examples: int, image_size: int) -> list[tuple[str, dict, dict]]:
        signatures = self.serving_signatures(model, image_size)
        pixels = self._to_pixels(self._eval_crops(min(num_examples, 8))["image"])
        crops_out = {k: v.numpy() for k, v in signatures["serving_default"][0](tf.constant(pixels)).items()}
        encoded, boxes = self._image_requests(2)
        image_out = {k: v.numpy() for k, v in signatures["serving_image"][0](tf.constant(encoded), tf.constant(boxes)).items()}
        return [
            ("serving_default", {"images": pixels}, crops_out),
            ("serving_image", {"image_bytes": encoded, "boxes": boxes}, image_out),
        ]

    def warmup_inputs(self, image_size: int, count: int) -> list[tuple[str, dict]]:
        pixels = self._to_pixels(self._eval_crops(1)["image"])
        encoded, boxes = self._image_requests(1)
        requests = [("serving_default", {"images": pixels}), ("serving_image", {"image_bytes": encoded, "boxes": boxes})]
        return [requests[i % 2] for i in range(count)]

    def verification_inputs(self, num_examples: int, image_size: int) -> np.ndarray:
        return self._eval_crops(num_examples)["image"].astype(np.float32)

    def representative_dataset(self, num_examples: int, image_size: int) -> Iterable[list[np.ndarray]]:
        """Calibration crops: the training persons' ground-truth crops without augmentation."""
        data = self.config.train_data
        spec, augment = self._data(data)
        ds = keypoint_input.keypoint_dataset(self.records(data, True), False, spec=spec, input_size=tuple(data.input_size),
                                             augment=augment, with_targets=False)
        for x in ds.take(num_examples):
            yield [x["image"].numpy()[None].astype(np.float32)]

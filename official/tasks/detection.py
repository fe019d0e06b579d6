"""The detection Task: COCO-format inputs, model-owned losses, COCO (+ TIDE) evaluation, serving.

Detection models own their training objective (`model.compute_loss`: targets such as proposal
assignment depend on the model's own outputs), so `compile_model` compiles without a Keras loss and
`fit` trains through that method, under tf.distribute and XLA alike. The model contract:
`model(images)` -> packed pre-NMS proposals (the exported network body), `model.detect(images,
image_sizes)` -> fixed-size detections (boxes in input pixels, contiguous classes, scores,
num_detections). A SavedModel is scored through `serving_default` (encoded images in, as TF Serving
runs it); the TFLite body (pre-NMS proposals) through the same post-processing as `detect` (today
CPN's `decode.postprocess`, the only detector of the zoo).
Evaluation maps boxes back to original pixels, classes to COCO category ids, and runs pycocotools.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.registry import register_task
from official.core.task import Task
from official.data import box_augment, coco
from official.data.coco_annotations import CocoAnnotations
from official.evaluation.coco import CocoEvaluator, write_results
from official.tasks import detection_input
from official.tasks.detection_input import DetectionDataConfig, DetectionTaskConfig  # noqa: F401  (re-exported)


@register_task("detection")
class DetectionTask(Task):
    """2D object detection on COCO-format data (see the module docstring)."""

    supports_tide = True

    # --- data --------------------------------------------------------------------------------
    def build_inputs(self, data, training, global_batch_size, input_context=None):
        return detection_input.build_dataset(
            self.config.task, data, training, global_batch_size, self.config.runtime.seed, input_context
        )

    def num_examples(self, data) -> int | None:
        if data.source == "coco" and data.annotations:
            anns = CocoAnnotations.load(data.annotations)
            return sum(1 for img in anns.images if anns.image_annotations(img["id"])) if data.skip_empty else len(anns.images)
        if data.source == "tfrecord":
            from official.data import coco_tfrecord

            return int(coco_tfrecord.load_category_map(data.path).get("num_images", 0)) or None
        return None

    def category_ids(self) -> list[int]:
        """Contiguous class index -> COCO category id, from the eval annotations (or TFRecord map)."""
        data = self.config.eval_data
        if data.annotations:
            return list(CocoAnnotations.load(data.annotations).index_to_id)
        from official.data import coco_tfrecord

        return list(coco_tfrecord.load_category_map(data.path)["index_to_id"])

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return None  # the model's compute_loss

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def _collect(self, detect: Callable, dataset, steps: int | None) -> tuple[list[dict], list[int]]:
        """Runs `detect(images, image_sizes) -> dets` over `dataset`; COCO results in original pixels."""
        evaluator = CocoEvaluator(self.config.eval_data.annotations)
        seen: list[int] = []
        for i, x in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            dets = detect(x["image"], x["image_size"])
            boxes = box_augment.unmap_boxes(np.asarray(dets["boxes"]), x["scale"], x["offset"])
            size = tf.cast(x["original_size"], tf.float32)
            boxes = tf.clip_by_value(boxes, 0.0, tf.tile(tf.reverse(size, [1]), [1, 2])[:, None, :]).numpy()
            classes = np.where(np.asarray(dets["valid"]), np.asarray(dets["classes"]), -1)
            evaluator.add_detections(x["image_id"].numpy(), boxes, np.asarray(dets["scores"]), classes, np.asarray(dets["num_detections"]))
            seen.extend(int(v) for v in x["image_id"].numpy())
        return evaluator.results, seen

    def _metrics(self, results: list[dict], seen: list[int], complete: bool, tide: bool,
                 predictions_out: str | None = None) -> dict[str, Any]:
        """COCO metrics (+ TIDE) of COCO `results` on the images `seen`; `predictions_out` gets the
        results as a standard COCO results JSON (written via a temp name) before anything is scored."""
        if predictions_out:
            write_results(results, predictions_out)
        evaluator = CocoEvaluator(self.config.eval_data.annotations)
        metrics: dict[str, Any] = evaluator.evaluate(results, image_ids=None if complete else seen)
        metrics["images"] = float(len(seen))
        if tide:
            metrics["tide"] = self._tide(results, None if complete else seen)
        return metrics

    def _tide(self, results: list[dict], image_ids: list[int] | None) -> dict[str, Any]:
        """TIDE breakdown of `results`; the ground truth is cut to `image_ids` (a partial pass)."""
        import json

        from official.evaluation.tide.api import tide_breakdown

        gt: Any = self.config.eval_data.annotations
        if image_ids is not None:
            with open(gt, encoding="utf-8") as f:
                data = json.load(f)
            keep = set(image_ids)
            data["images"] = [img for img in data["images"] if img["id"] in keep]
            data["annotations"] = [a for a in data.get("annotations", []) if a["image_id"] in keep]
            gt = data
        return tide_breakdown(gt, results)

    def evaluate(self, model: keras.Model, dataset, steps: int | None = None, tide: bool = False,
                 predictions_out: str | None = None) -> dict[str, Any]:
        """COCO box AP of `model.detect` on `dataset` (an eval `build_inputs`), + TIDE when asked."""
        if keras.backend.backend() == "tensorflow":
            detect = tf.function(lambda images, sizes: model.detect(images, sizes))
        else:

            def detect(images, sizes):
                return model.detect(np.asarray(images), np.asarray(sizes))

        results, seen = self._collect(detect, dataset, steps)
        return self._metrics(results, seen, steps is None, tide, predictions_out)

    def _postprocess_fn(self) -> Callable:
        """Packed proposals of images (+ mirrors) -> detections, with the experiment model's settings."""
        from official.vision.cpn import decode
        from official.vision.cpn.head import unpack_proposals

        m = self.config.model
        flip = bool(getattr(m, "flip_test", False))

        @tf.function
        def post(packed, sizes):  # traced once per batch size: soft-NMS eagerly was 5x slower
            return decode.postprocess(
                unpack_proposals(packed), sizes.shape[0], m.input_size, flip, sizes, m.pre_nms_top_k,
                m.max_detections, m.soft_nms_sigma, m.merge_weight_exp or None, m.nms_iou,
            )

        def run(predict: Callable, images, sizes) -> dict:
            views = np.concatenate([images, images[:, :, ::-1]], 0) if flip else np.asarray(images)
            packed = tf.convert_to_tensor(np.asarray(predict(views), np.float32))
            return post(packed, tf.convert_to_tensor(sizes))

        return run

    def evaluate_predict_fn(self, predict_fn: Callable, dataset, steps: int | None = None, tide: bool = False,
                            predictions_out: str | None = None) -> dict[str, Any]:
        """COCO AP of an artifact whose `predict_fn(images) -> packed proposals` (the TFLite body)."""
        post = self._postprocess_fn()
        results, seen = self._collect(lambda images, sizes: post(predict_fn, np.asarray(images), sizes), dataset, steps)
        return self._metrics(results, seen, steps is None, tide, predictions_out)

    def evaluate_saved_model(self, loaded: Any, global_batch_size: int, steps: int | None = None, tide: bool = False,
                             predictions_out: str | None = None) -> dict[str, Any]:
        """COCO AP of the SavedModel's `serving_default`, the graph TF Serving runs: the eval images'
        encoded bytes in, detections in original pixels with COCO category ids out."""
        serve = loaded.signatures["serving_default"]
        evaluator = CocoEvaluator(self.config.eval_data.annotations)
        to_index = {cid: i for i, cid in enumerate(evaluator.index_to_id)}
        seen: list[int] = []
        for i, batch in enumerate(detection_input.encoded_dataset(self.config.eval_data, global_batch_size)):
            if steps is not None and i >= steps:
                break
            out = {k: v.numpy() for k, v in serve(image_bytes=batch["image_bytes"]).items()}
            classes = np.vectorize(lambda c: to_index.get(int(c), -1), otypes=[np.int64])(out["classes"])
            image_ids = batch["image_id"].numpy()
            evaluator.add_detections(image_ids, out["boxes"], out["scores"], classes, out["num_detections"])
            seen.extend(int(v) for v in image_ids)
        return self._metrics(evaluator.results, seen, steps is None, tide, predictions_out)

    def saved_model_predict_fn(self, loaded: Any) -> Callable:
        """The SavedModel's `proposals` signature as a predict_fn (the body, for `evaluate_predict_fn`)."""
        fn = loaded.signatures["proposals"]
        return lambda images: fn(images=tf.constant(images, tf.float32))["proposals"].numpy()

    # --- export ------------------------------------------------------------------------------
    def serving_signatures(self, model: keras.Model, image_size: int) -> dict[str, tuple[Callable, list]]:
        """serving_default: encoded images -> detections in original pixels with COCO category ids;
        proposals: (B, S, S, 3) pixels -> the packed pre-NMS proposals (the TFLite body's output)."""
        category_ids = tf.constant(self.category_ids(), tf.int32)

        def preprocess(encoded: tf.Tensor):
            image = coco.decode_image(encoded)
            ex = {"image": image, "boxes": tf.zeros([0, 4]), "classes": tf.zeros([0], tf.int32), "is_crowd": tf.zeros([0], tf.bool)}
            ex = box_augment.augment(ex, image_size, training=False)
            return ex["image"], ex["scale"], tf.cast(ex["original_size"], tf.float32)

        def from_bytes(encoded: tf.Tensor) -> dict[str, tf.Tensor]:
            images, scales, sizes = tf.map_fn(
                preprocess, encoded,
                fn_output_signature=(tf.TensorSpec([image_size, image_size, 3], tf.float32), tf.TensorSpec([2], tf.float32),
                                     tf.TensorSpec([2], tf.float32)),
            )
            extent = tf.minimum(tf.round(sizes * tf.reverse(scales, [1])), float(image_size))
            dets = model.detect(images, extent)
            boxes = box_augment.unmap_boxes(dets["boxes"], scales, tf.zeros_like(scales))
            boxes = tf.clip_by_value(boxes, 0.0, tf.tile(tf.reverse(sizes, [1]), [1, 2])[:, None, :])
            valid = dets["valid"]
            return {
                "boxes": tf.where(valid[..., None], boxes, 0.0),
                "scores": tf.where(valid, dets["scores"], 0.0),
                "classes": tf.where(valid, tf.gather(category_ids, tf.maximum(dets["classes"], 0)), 0),
                "num_detections": dets["num_detections"],
            }

        def proposals(images: tf.Tensor) -> dict[str, tf.Tensor]:
            return {"proposals": model(images, training=False)}

        return {
            "serving_default": (from_bytes, [tf.TensorSpec([None], tf.string, name="image_bytes")]),
            "proposals": (proposals, [tf.TensorSpec([None, image_size, image_size, 3], tf.float32, name="images")]),
        }

    def _eval_batch(self, num_examples: int, image_size: int) -> tuple[np.ndarray, list[bytes]]:
        """Up to `num_examples` eval images (fit-and-pad pixels) and their encoded bytes."""
        data = self.config.eval_data
        anns = CocoAnnotations.load(data.annotations)
        paths = coco.image_paths(anns, data.path)[:num_examples]
        encoded = [tf.io.read_file(p).numpy() for p in paths]
        pixels = []
        for e in encoded:
            ex = {"image": coco.decode_image(e), "boxes": tf.zeros([0, 4]), "classes": tf.zeros([0], tf.int32),
                  "is_crowd": tf.zeros([0], tf.bool)}
            pixels.append(box_augment.augment(ex, image_size, training=False)["image"].numpy())
        return np.stack(pixels).astype(np.float32), encoded

    def serving_verification(self, model: keras.Model, num_examples: int, image_size: int) -> list[tuple[str, dict, dict]]:
        """The body's proposals, and serving_default's detections as the same function computes them
        eagerly on the Keras model (decoding, letterboxing, soft-NMS and the id map included)."""
        pixels, encoded = self._eval_batch(min(num_examples, 4), image_size)
        from_bytes = self.serving_signatures(model, image_size)["serving_default"][0]
        image_bytes = np.asarray(encoded, dtype=object)
        dets = {k: v.numpy() for k, v in from_bytes(tf.constant(image_bytes)).items()}
        return [
            ("proposals", {"images": pixels}, {"proposals": np.asarray(model(pixels, training=False))}),
            ("serving_default", {"image_bytes": image_bytes}, dets),
        ]

    def warmup_inputs(self, image_size: int, count: int) -> list[tuple[str, dict]]:
        _, encoded = self._eval_batch(max(count, 1), image_size)
        return [("serving_default", {"image_bytes": np.asarray(encoded[i % len(encoded)], dtype=object)[None]})
                for i in range(count)]

    def verification_inputs(self, num_examples: int, image_size: int) -> np.ndarray:
        return self._eval_batch(num_examples, image_size)[0]

    def representative_dataset(self, num_examples: int, image_size: int) -> Iterable[list[np.ndarray]]:
        pixels, _ = self._eval_batch(num_examples, image_size)
        for i in range(len(pixels)):
            yield [pixels[i : i + 1]]

"""The image-classification Task: folder/TFRecord inputs, smoothed cross-entropy, top-1/top-5, serving.

Serving takes RGB pixels on the 0-255 scale (float images, or encoded JPEG/PNG bytes) and applies the
evaluation transform and normalisation inside the graph, so clients never re-implement preprocessing.
TFLite and ONNX export the bare network, whose input is the normalised image (documented in the card).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.file_io import write_json
from official.core.registry import register_task
from official.core.task import Task
from official.data import classification_input, image_decode, image_preprocessing
from official.losses.classification import SparseLabelSmoothingCrossEntropy


@register_task("image_classification")
class ImageClassificationTask(Task):
    """Single-label classification of images into `task.num_classes` classes."""

    def __init__(self, config):
        super().__init__(config)
        self._sources: dict[str, classification_input.ClassificationSource] = {}
        self.skip_counters: list[image_decode.SkipCounter] = []

    # --- data --------------------------------------------------------------------------------
    def _source(self, data, input_context=None, training=False) -> classification_input.ClassificationSource:
        source = classification_input.open_source(data, input_context, shuffle=training, seed=self.config.runtime.seed)
        if source.class_names and len(source.class_names) != self.config.task.num_classes:
            raise classification_input.imagefolder.DatasetError(
                f"{data.path}: {len(source.class_names)} class folders, but task.num_classes is "
                f"{self.config.task.num_classes}"
            )
        self.skip_counters.append(source.skipped)
        return source

    def build_inputs(self, data, training, global_batch_size, input_context=None):
        return classification_input.build_dataset(
            data,
            training,
            global_batch_size,
            input_context=input_context,
            seed=self.config.runtime.seed,
            source=self._source(data, input_context, training),
            deterministic=self.config.runtime.deterministic,
        )

    def num_examples(self, data) -> int | None:
        key = f"{data.source}:{data.path}"
        if key not in self._sources:
            self._sources[key] = classification_input.open_source(data)
        return self._sources[key].num_examples

    def skipped_examples(self) -> int:
        return sum(c.count for c in self.skip_counters)

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return SparseLabelSmoothingCrossEntropy(self.config.trainer.label_smoothing)

    def build_metrics(self) -> list[Any]:
        metrics: list[Any] = [keras.metrics.SparseCategoricalAccuracy(name="top1")]
        if self.config.task.num_classes > 5:
            metrics.append(keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5"))
        return metrics

    def prediction_records(self, outputs, labels, start: int) -> list[dict[str, Any]]:
        """{"index", "label", "prediction", "probability"} per example, in eval order (`index` counts
        from 0 over the eval set; the readers' order is fixed, so it names the same image every run)."""
        probs = np.asarray(keras.ops.softmax(keras.ops.cast(outputs, "float32"), axis=-1))
        labels = np.asarray(labels).reshape(-1)
        top = np.argmax(probs, -1)
        return [
            {"index": start + i, "label": int(labels[i]), "prediction": int(top[i]), "probability": float(probs[i, top[i]])}
            for i in range(len(labels))
        ]

    def evaluate_predict_fn(self, predict_fn: Callable, dataset, steps=None, tide: bool = False,
                            predictions_out: str | None = None) -> dict[str, float]:
        """Top-1 of an artifact's `predict_fn(normalised images) -> logits` over `dataset`."""
        self.check_tide(tide)
        correct = total = 0
        records: list[dict[str, Any]] = []
        for i, (images, labels) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            logits = np.asarray(predict_fn(images.numpy()))
            correct += int(np.sum(np.argmax(logits, -1) == labels.numpy()))
            total += int(labels.shape[0])
            if predictions_out:
                records.extend(self.prediction_records(logits, labels.numpy(), len(records)))
        if predictions_out:
            write_json(records, predictions_out)
        return {"top1": correct / max(total, 1), "examples": float(total)}

    def saved_model_predict_fn(self, loaded) -> Callable[[np.ndarray], np.ndarray]:
        """logits of a loaded SavedModel's serving_default for normalised images (undone to pixels)."""
        cfg = self.config.eval_data
        mean, std = np.asarray(cfg.mean, np.float32), np.asarray(cfg.std, np.float32)
        signature = loaded.signatures["serving_default"]

        def predict(images: np.ndarray) -> np.ndarray:
            pixels = tf.constant(np.asarray(images, np.float32) * std + mean)
            return signature(images=pixels)["logits"].numpy()

        return predict

    # --- export ------------------------------------------------------------------------------
    def _eval_cfg(self, image_size: int):
        return dataclasses.replace(self.config.eval_data, image_size=image_size)

    def model_outputs(self, model: keras.Model, images: tf.Tensor) -> Any:
        """The network's float32 outputs for normalised images (what `serving_outputs` receives)."""
        return tf.cast(model(images, training=False), tf.float32)

    def serving_outputs(self, logits: tf.Tensor) -> dict[str, tf.Tensor]:
        """What the serving signatures return for a batch of float32 logits."""
        return {
            "logits": logits,
            "probabilities": tf.nn.softmax(logits, axis=-1),
            "classes": tf.argmax(logits, axis=-1, output_type=tf.int32),
        }

    def serving_signatures(self, model: keras.Model, image_size: int) -> dict[str, tuple[Callable, list]]:
        cfg = self._eval_cfg(image_size)

        def outputs(images: tf.Tensor) -> dict[str, tf.Tensor]:
            return self.serving_outputs(self.model_outputs(model, images))

        def from_pixels(images: tf.Tensor) -> dict[str, tf.Tensor]:
            return outputs(image_preprocessing.normalize(images, cfg.mean, cfg.std))

        def from_bytes(encoded: tf.Tensor) -> dict[str, tf.Tensor]:
            def one(e: tf.Tensor) -> tf.Tensor:
                return image_preprocessing.preprocess_eval(image_decode.decode_rgb(e), cfg)

            images = tf.map_fn(one, encoded, fn_output_signature=tf.TensorSpec([image_size, image_size, 3], tf.float32))
            return outputs(images)

        return {
            "serving_default": (from_pixels, [tf.TensorSpec([None, image_size, image_size, 3], tf.float32, name="images")]),
            "serving_bytes": (from_bytes, [tf.TensorSpec([None], tf.string, name="image_bytes")]),
        }

    def _eval_examples(self, num_examples: int, image_size: int, data=None) -> tuple[np.ndarray, np.ndarray, list[bytes]]:
        """Up to `num_examples` (pixels 0-255 after the eval transform, labels, encoded bytes)."""
        cfg = self._eval_cfg(image_size) if data is None else data
        # A fixed-seed shuffle of the file list: a spread of classes, the same files on every call.
        source = classification_input.open_source(cfg, shuffle=True, seed=1234)
        ds = image_decode.filter_decodable(source.examples, source.skipped).take(num_examples)
        pixels, labels, encoded = [], [], []
        for ex in ds:
            img = image_decode.decode_rgb(ex["encoded"])
            pixels.append(image_preprocessing.center_crop(tf.cast(img, tf.float32), image_size, cfg.crop_pct, cfg.interpolation).numpy())
            labels.append(int(ex["label"]))
            encoded.append(ex["encoded"].numpy())
        return np.stack(pixels).astype(np.float32), np.asarray(labels), encoded

    def verification_inputs(self, num_examples: int, image_size: int) -> np.ndarray:
        pixels, _, _ = self._eval_examples(num_examples, image_size)
        cfg = self._eval_cfg(image_size)
        return image_preprocessing.normalize(pixels, cfg.mean, cfg.std).numpy()

    def verification_labels(self, num_examples: int, image_size: int) -> np.ndarray:
        return self._eval_examples(num_examples, image_size)[1]

    def serving_verification(self, model: keras.Model, num_examples: int, image_size: int) -> list[tuple[str, dict, dict]]:
        """(signature, inputs, expected outputs) triples the exporter checks on the loaded SavedModel."""
        pixels, _, encoded = self._eval_examples(num_examples, image_size)
        cfg = self._eval_cfg(image_size)
        expected = np.asarray(model(image_preprocessing.normalize(pixels, cfg.mean, cfg.std), training=False))
        return [
            ("serving_default", {"images": pixels}, {"logits": expected}),
            ("serving_bytes", {"image_bytes": np.asarray(encoded, dtype=object)}, {"logits": expected}),
        ]

    def warmup_inputs(self, image_size: int, count: int) -> list[tuple[str, dict]]:
        pixels, _, encoded = self._eval_examples(max(count, 1), image_size)
        return [("serving_bytes", {"image_bytes": np.asarray(encoded[i : i + 1], dtype=object)}) for i in range(count)]

    def representative_dataset(self, num_examples: int, image_size: int) -> Iterable[list[np.ndarray]]:
        """Training images under the evaluation transform, normalised, one per calibration step."""
        cfg = self._eval_cfg(image_size)
        train_cfg = dataclasses.replace(self.config.train_data, image_size=image_size, crop_pct=cfg.crop_pct)
        pixels, _, _ = self._eval_examples(num_examples, image_size, data=train_cfg)
        normalized = image_preprocessing.normalize(pixels, cfg.mean, cfg.std).numpy()
        for i in range(len(normalized)):
            yield [normalized[i : i + 1]]

"""The hashing-retrieval Task: image-file inputs, retrieval mAP evaluation and code serving.

Training batches are (image, database index): the index of the image in the training list, which the
training method uses to find its label and its database code (ADSH's pairing of u_i with v_i).
Evaluation follows the spec's protocol: eval_data images are the queries, train_data images (under the
evaluation transform) the database, both coded by sign(h) of the network; mAP over the full Hamming
ranking and precision@k (official/evaluation/retrieval.py).
Serving returns, for RGB pixels on the 0-255 scale (or encoded bytes), the continuous code h (pre-sign),
the binary code sign(h) in {-1, +1} as int8 (h >= 0 -> +1) and the packed bits (uint8, numpy packbits
order). TFLite holds the bare network: normalised image -> h.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.registry import register_task
from official.data import classification_input, fine_grained, imagefolder
from official.evaluation import retrieval
from official.tasks.image_classification import ImageClassificationTask
from official.training.method import inference_model


def packed_bits(code: tf.Tensor) -> tf.Tensor:
    """(batch, q) codes -> (batch, ceil(q / 8)) uint8, bit j at bit 7 - j % 8 of byte j // 8 (numpy packbits)."""
    bits = tf.cast(code >= 0, tf.int32)
    q = int(code.shape[-1])
    pad = (-q) % 8
    if pad:
        bits = tf.pad(bits, [[0, 0], [0, pad]])
    bits = tf.reshape(bits, [-1, (q + pad) // 8, 8])
    weights = tf.constant([128, 64, 32, 16, 8, 4, 2, 1], tf.int32)
    return tf.cast(tf.reduce_sum(bits * weights, axis=-1), tf.uint8)


def binary_code(code: tf.Tensor) -> tf.Tensor:
    """sign(h) as int8 with h >= 0 -> +1 (no zero codes)."""
    return tf.where(code >= 0, tf.ones_like(code, tf.int8), -tf.ones_like(code, tf.int8))


@register_task("hashing_retrieval")
class HashingRetrievalTask(ImageClassificationTask):
    """Learning q-bit codes whose Hamming ranking retrieves images of the query's class."""

    def listing(self, data) -> tuple[list[str], list[int], list[str]]:
        """(paths, labels, class names) of an image-file source (imagefolder or a fine-grained layout)."""
        if data.source in fine_grained.SOURCES:
            return fine_grained.list_split(data.source, data.path)
        if data.source == "imagefolder":
            return imagefolder.list_image_folder(data.path)
        raise imagefolder.DatasetError(
            f"data.source: hashing retrieval reads image files (imagefolder, {', '.join(fine_grained.SOURCES)}),"
            f" got {data.source!r}")

    def build_inputs(self, data, training, global_batch_size, input_context=None):
        if not training:
            return super().build_inputs(data, training, global_batch_size, input_context)
        paths, labels, names = self.listing(data)
        if len(names) != self.config.task.num_classes:
            raise imagefolder.DatasetError(
                f"{data.path}: {len(names)} classes, but task.num_classes is {self.config.task.num_classes}")
        shards = input_context.num_input_pipelines if input_context else 1
        shard = input_context.input_pipeline_id if input_context else 0
        examples = imagefolder.file_examples(paths, list(range(len(paths))), True, self.config.runtime.seed, shards, shard)
        source = classification_input.ClassificationSource(examples, len(paths), names)
        self.skip_counters.append(source.skipped)
        return classification_input.build_dataset(
            data, True, global_batch_size, input_context=input_context, seed=self.config.runtime.seed,
            source=source, deterministic=self.config.runtime.deterministic)

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, jit_compile=jit_compile)  # the training method computes the loss

    def build_losses(self):
        return None

    # --- evaluation --------------------------------------------------------------------------
    def _codes(self, predict: Callable, dataset, steps=None) -> tuple[np.ndarray, np.ndarray]:
        codes, labels = [], []
        for i, (images, y) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            codes.append(np.asarray(predict(images), np.float32))
            labels.append(np.asarray(y))
        return np.concatenate(codes), np.concatenate(labels)

    def _database_dataset(self, batch_size: int):
        data = self.config.train_data
        return classification_input.build_dataset(data, False, batch_size, source=self._source(data))

    def _metrics(self, predict: Callable, dataset, steps=None) -> dict[str, float]:
        query, query_labels = self._codes(predict, dataset, steps)
        batch = self.config.trainer.global_batch_size
        database, database_labels = self._codes(predict, self._database_dataset(batch))
        cfg = self.config.task
        out = retrieval.retrieval_metrics(np.where(query >= 0, 1, -1), query_labels, np.where(database >= 0, 1, -1),
                                          database_labels, topk=getattr(cfg, "topk", 0) or None,
                                          precision_ks=tuple(getattr(cfg, "precision_ks", (10, 100))))
        return {**out, "queries": float(len(query)), "database": float(len(database))}

    def evaluate(self, model, dataset, steps=None, tide: bool = False, predictions_out: str | None = None):
        self.check_tide(tide)
        network = inference_model(model)
        return self._metrics(lambda x: network(x, training=False), dataset, steps)

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide: bool = False, predictions_out=None):
        self.check_tide(tide)
        return self._metrics(lambda x: predict_fn(np.asarray(x)), dataset, steps)

    def saved_model_predict_fn(self, loaded) -> Callable[[np.ndarray], np.ndarray]:
        cfg = self.config.eval_data
        mean, std = np.asarray(cfg.mean, np.float32), np.asarray(cfg.std, np.float32)
        signature = loaded.signatures["serving_default"]

        def predict(images: np.ndarray) -> np.ndarray:
            return signature(images=tf.constant(np.asarray(images, np.float32) * std + mean))["code"].numpy()

        return predict

    # --- export ------------------------------------------------------------------------------
    def serving_outputs(self, logits: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"code": logits, "binary_code": binary_code(logits), "packed_code": packed_bits(logits)}

    def serving_verification(self, model, num_examples, image_size):
        checks = super().serving_verification(model, num_examples, image_size)
        out = []
        for signature, inputs, expected in checks:
            code = expected["logits"]
            out.append((signature, inputs, {"code": code, "binary_code": np.where(code >= 0, 1, -1).astype(np.int8),
                                            "packed_code": retrieval.pack_codes(np.where(code >= 0, 1, -1))}))
        return out

    def quantized_agreement(self, reference, quantized) -> float | None:
        """Fraction of code bits whose sign agrees (int8 / dynamic TFLite)."""
        return float(np.mean((np.asarray(reference) >= 0) == (np.asarray(quantized) >= 0)))

"""Open-set image classification: train on K known classes, then classify them and reject unknown ones.

The protocol of RPL and OpenHybrid (Neal et al. 2018 splits, official/data/open_set_splits.py): the
training and evaluation data keep the known classes (`data.classes`, renumbered 0..K-1), and
`task.unknown_data` holds the test images of the unknown classes (the same test file with the unknown
labels, or CIFAR-100 for CIFAR+N). Evaluation scores both sets and reports closed-set accuracy, AUROC
(known = positive), OSCR and macro-F1 over K + 1 classes (official/evaluation/open_set.py); macro-F1
rejects an image whose score falls below the threshold that accepts `task.accept_known` of the known
test images.

Model contract: `model(images)` returns a dict with "logits" (B, K) and "score" (B,), higher meaning
more likely known (RPL: the largest softmax probability of its distances; OpenHybrid: log p(z)); other
keys are passed through to serving. The model owns its loss (`compute_loss`, compiled with loss=None).
Served: {"logits", "probabilities", "classes", "open_set_score", ...}; TFLite holds a single (1, K + 1)
output, the logits followed by the score.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.file_io import write_json
from official.core.registry import register_task
from official.data import classification_input
from official.evaluation import open_set
from official.tasks.image_classification import ImageClassificationTask
from official.tasks.open_set_config import OpenSetTaskConfig  # noqa: F401  (re-exported: the task's config)


def split_outputs(outputs: Any) -> tuple[np.ndarray, np.ndarray]:
    """(logits (B, K), scores (B,)) of a model's dict or of the exported (B, K + 1) array."""
    if isinstance(outputs, dict):
        return np.asarray(outputs["logits"], np.float32), np.asarray(outputs["score"], np.float32).reshape(-1)
    joined = np.asarray(outputs, np.float32)
    return joined[:, :-1], joined[:, -1]


def open_set_metrics(known: dict[str, np.ndarray], unknown: dict[str, np.ndarray], accept_known: float) -> dict[str, float]:
    """Accuracy, AUROC, OSCR and macro-F1 from the known set's logits/scores/labels and the unknown scores."""
    predictions = np.argmax(known["logits"], -1)
    num_known = known["logits"].shape[-1]
    threshold = float(np.quantile(known["score"], 1.0 - accept_known))
    open_predictions = np.concatenate([
        np.where(known["score"] >= threshold, predictions, num_known),
        np.where(unknown["score"] >= threshold, np.argmax(unknown["logits"], -1), num_known),
    ])
    open_labels = np.concatenate([known["labels"], np.full(len(unknown["score"]), num_known)])
    return {
        "accuracy": open_set.closed_set_accuracy(predictions, known["labels"]),
        "auroc": open_set.auroc(known["score"], unknown["score"]),
        "oscr": open_set.oscr(known["score"], unknown["score"], predictions, known["labels"]),
        "macro_f1": open_set.open_set_macro_f1(open_predictions, open_labels, num_known),
        "threshold": threshold,
        "known_examples": float(len(known["labels"])),
        "unknown_examples": float(len(unknown["score"])),
    }


@register_task("open_set_classification")
class OpenSetClassificationTask(ImageClassificationTask):
    """K-way classification with an open-set score, evaluated on known and unknown test images."""

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return None  # the model's compute_loss (RPL: reciprocal-point loss; OpenHybrid: CE + flow NLL)

    def build_metrics(self) -> list[Any]:
        return []

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def unknown_dataset(self, batch_size: int | None = None):
        """Batched (images, ignored labels) of `task.unknown_data`, under the evaluation transform."""
        data = self.config.task.unknown_data
        if not data.path:
            raise classification_input.imagefolder.DatasetError(
                "task.unknown_data.path: empty; an open-set evaluation needs the unknown test images"
            )
        source = classification_input.open_source(data)
        self.skip_counters.append(source.skipped)
        batch = batch_size or self.config.trainer.global_batch_size
        return classification_input.build_dataset(data, False, batch, source=source)

    @staticmethod
    def _collect(predict: Callable, dataset, steps: int | None) -> dict[str, np.ndarray]:
        logits, scores, labels = [], [], []
        for i, (images, batch_labels) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            batch_logits, batch_scores = split_outputs(predict(images))
            logits.append(batch_logits)
            scores.append(batch_scores)
            labels.append(np.asarray(batch_labels).reshape(-1))
        if not labels:
            raise classification_input.imagefolder.DatasetError("open-set evaluation: a test set is empty")
        return {"logits": np.concatenate(logits), "score": np.concatenate(scores), "labels": np.concatenate(labels)}

    def _evaluate(self, predict: Callable, dataset, steps: int | None, predictions_out: str | None) -> dict[str, float]:
        known = self._collect(predict, dataset, steps)
        unknown = self._collect(predict, self.unknown_dataset(), steps)
        metrics = open_set_metrics(known, unknown, self.config.task.accept_known)
        if predictions_out:
            records = [
                {"set": name, "index": i, "label": int(part["labels"][i]) if name == "known" else -1,
                 "prediction": int(np.argmax(part["logits"][i])), "score": float(part["score"][i])}
                for name, part in (("known", known), ("unknown", unknown)) for i in range(len(part["score"]))
            ]
            write_json(records, predictions_out)
        return metrics

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, float]:
        self.check_tide(tide)
        return self._evaluate(lambda x: model(x, training=False), dataset, steps, predictions_out)

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        return self._evaluate(lambda x: predict_fn(np.asarray(x)), dataset, steps, predictions_out)

    def saved_model_predict_fn(self, loaded) -> Callable[[np.ndarray], np.ndarray]:
        """(B, K + 1) logits and score of a loaded SavedModel's serving_default for normalised images."""
        cfg = self.config.eval_data
        mean, std = np.asarray(cfg.mean, np.float32), np.asarray(cfg.std, np.float32)
        signature = loaded.signatures["serving_default"]

        def predict(images: np.ndarray) -> np.ndarray:
            out = signature(images=tf.constant(np.asarray(images, np.float32) * std + mean))
            return np.concatenate([out["logits"].numpy(), out["open_set_score"].numpy()[:, None]], -1)

        return predict

    # --- export ------------------------------------------------------------------------------
    def model_outputs(self, model: keras.Model, images: tf.Tensor) -> dict[str, tf.Tensor]:
        return {k: tf.cast(v, tf.float32) for k, v in model(images, training=False).items()}

    def serving_outputs(self, outputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        logits = outputs["logits"]
        extra = {k: v for k, v in outputs.items() if k not in ("logits", "score")}
        return {
            "logits": logits,
            "probabilities": tf.nn.softmax(logits, axis=-1),
            "classes": tf.argmax(logits, axis=-1, output_type=tf.int32),
            "open_set_score": tf.reshape(outputs["score"], [-1]),
            **extra,
        }

    def serving_verification(self, model: keras.Model, num_examples: int, image_size: int) -> list[tuple[str, dict, dict]]:
        pixels, _, encoded = self._eval_examples(num_examples, image_size)
        logits, score = split_outputs(model(self.verification_inputs(num_examples, image_size), training=False))
        expected = {"logits": logits, "open_set_score": score}
        return [
            ("serving_default", {"images": pixels}, expected),
            ("serving_bytes", {"image_bytes": np.asarray(encoded, dtype=object)}, expected),
        ]

    def export_body(self, model: keras.Model) -> keras.Model:
        """One (B, K + 1) output for TFLite/ONNX: the logits, then the open-set score."""
        inputs = keras.Input(tuple(model.inputs[0].shape[1:]), name="images")
        out = model(inputs, training=False)
        joined = keras.layers.Concatenate(name="logits_and_score")([out["logits"], keras.ops.expand_dims(out["score"], -1)])
        return keras.Model(inputs, joined, name=f"{model.name}_open_set")

    def quantized_agreement(self, reference: Any, quantized: Any) -> float | None:
        """Top-1 agreement over the logits (the last column is the score)."""
        return float(np.mean(np.argmax(np.asarray(reference)[:, :-1], -1) == np.argmax(np.asarray(quantized)[:, :-1], -1)))

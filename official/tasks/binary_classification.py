"""One-vs-rest binary classification of images, scored by average precision (UniLoss's MNIST task).

The images and labels come from any classification reader (`data.source`: mnist, imagefolder, cifar,
...); the target is `label == task.positive_class` and the model has one output, a logit. Evaluation
ranks the whole evaluation set by that logit and reports the interpolated AP of the positive class
(UniLoss's binary_ap), sklearn's non-interpolated AP and the accuracy at logit 0
(official/evaluation/average_precision.py). Serving returns the logit, its sigmoid and the 0/1 class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.config import TaskConfig
from official.core.registry import register_task
from official.evaluation.average_precision import binary_metrics
from official.tasks.image_classification import ImageClassificationTask


@dataclasses.dataclass
class BinaryTaskConfig(TaskConfig):
    name: str = "binary_classification"  # registered Task class
    num_classes: int = 10  # classes of the stored labels (checked against the reader); the model has 1 output
    positive_class: int = 0  # stored label that is the positive class (UniLoss MNIST: digit 0 vs rest)


@register_task("binary_classification")
class BinaryClassificationTask(ImageClassificationTask):
    """Single-logit classifier of `label == positive_class`, evaluated by AP over the evaluation set."""

    def build_inputs(self, data, training, global_batch_size, input_context=None):
        ds = super().build_inputs(data, training, global_batch_size, input_context)
        positive = int(self.config.task.positive_class)

        def to_target(images, labels):
            return images, tf.cast(tf.equal(labels, positive), tf.float32)[:, None]

        return ds.map(to_target, num_parallel_calls=tf.data.AUTOTUNE)

    def build_losses(self):
        return keras.losses.BinaryCrossentropy(from_logits=True, name="binary_cross_entropy")

    def build_metrics(self) -> list[Any]:
        # Batch-averaged during fit; `evaluate` ranks the whole set for the exact AP.
        return [keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy"),
                keras.metrics.AUC(curve="PR", from_logits=True, name="pr_auc")]

    def _collect(self, predict_fn: Callable, dataset, steps) -> tuple[np.ndarray, np.ndarray]:
        scores, targets = [], []
        for i, (images, target) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            scores.append(np.asarray(predict_fn(images)).reshape(-1))
            targets.append(np.asarray(target).reshape(-1))
        if not scores:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(scores), np.concatenate(targets)

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, float]:
        self.check_tide(tide)
        return binary_metrics(*self._collect(lambda x: model(x, training=False), dataset, steps))

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        return binary_metrics(*self._collect(lambda x: predict_fn(np.asarray(x)), dataset, steps))

    def serving_outputs(self, logits: tf.Tensor) -> dict[str, tf.Tensor]:
        """The logit, its sigmoid and the 0/1 class (logit > 0)."""
        return {"logits": logits, "probabilities": tf.sigmoid(logits), "classes": tf.cast(logits > 0, tf.int32)}

    def quantized_agreement(self, reference: Any, quantized: Any) -> float | None:
        """Agreement of the predicted class (logit > 0) between Keras and a quantized artifact."""
        return float(np.mean((np.asarray(reference) > 0) == (np.asarray(quantized) > 0)))

"""The point-cloud classification Task: ModelNet40 HDF5 inputs, cross-entropy, overall accuracy, serving.

Inputs are xyz clouds (batch, num_points, 3) as the data folder stores them (unit sphere); the served model
takes the same (static point count: FPS and ball query have fixed shapes) and returns logits, probabilities
and the class. The paper's metric is overall accuracy (single view, no voting): `top1` here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.registry import register_task
from official.core.task import Task
from official.data import modelnet40
from official.losses.classification import SparseLabelSmoothingCrossEntropy


@register_task("point_classification")
class PointClassificationTask(Task):
    """Single-label classification of point clouds into `task.num_classes` classes."""

    def __init__(self, config):
        super().__init__(config)
        self._arrays: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def arrays(self, data) -> tuple[np.ndarray, np.ndarray]:
        """(points (n, num_points, 3), labels (n,)) of a data section, read once."""
        if data.source != "modelnet40_h5":
            raise modelnet40.ModelNetError(f"{data.path}: source must be modelnet40_h5, got {data.source!r}")
        key = (data.path, data.split, data.num_points, data.keep_rate)
        if key not in self._arrays:
            points, labels = modelnet40.read_split(data.path, data.split, data.num_points, data.keep_rate)
            if labels.size and int(labels.max()) >= self.config.task.num_classes:
                raise modelnet40.ModelNetError(
                    f"{data.path}: field 'label' holds class {int(labels.max())}, task.num_classes is "
                    f"{self.config.task.num_classes}")
            self._arrays[key] = (points, labels)
        return self._arrays[key]

    def build_inputs(self, data, training, global_batch_size, input_context=None):
        points, labels = self.arrays(data)
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        augmentation = None
        if training and data.augment:
            augmentation = modelnet40.Augment(tuple(data.scale), data.rotate_up, data.translate, data.jitter_sigma,
                                              data.jitter_clip)
        return modelnet40.build_dataset(points, labels, training, batch, self.config.runtime.seed, augmentation,
                                        input_context)

    def num_examples(self, data) -> int | None:
        return len(self.arrays(data)[1])

    def build_losses(self):
        return SparseLabelSmoothingCrossEntropy(self.config.trainer.label_smoothing)

    def build_metrics(self) -> list[Any]:
        return [keras.metrics.SparseCategoricalAccuracy(name="top1")]

    # --- exported artifacts ----------------------------------------------------------------------
    def evaluate_predict_fn(self, predict_fn: Callable, dataset, steps=None, tide: bool = False,
                            predictions_out: str | None = None) -> dict[str, float]:
        """Overall accuracy of an artifact's `predict_fn(points) -> logits`."""
        self.check_tide(tide)
        if predictions_out:
            raise NotImplementedError("point_classification writes no predictions file")
        correct = total = 0
        for i, (points, labels) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            logits = np.asarray(predict_fn(points.numpy()))
            correct += int(np.sum(np.argmax(logits, -1) == labels.numpy()))
            total += int(labels.shape[0])
        return {"top1": correct / max(total, 1), "examples": float(total)}

    def saved_model_predict_fn(self, loaded) -> Callable[[np.ndarray], np.ndarray]:
        signature = loaded.signatures["serving_default"]
        return lambda points: signature(points=tf.constant(points, tf.float32))["logits"].numpy()

    def _num_points(self, model: keras.Model) -> int:
        return int(model.inputs[0].shape[1])

    def serving_signatures(self, model: keras.Model, image_size: int) -> dict[str, tuple[Callable, list]]:
        """serving_default: points (batch, num_points, 3) float32 -> logits, probabilities, classes."""
        del image_size  # the model's static point count decides the input

        def serve(points: tf.Tensor) -> dict[str, tf.Tensor]:
            logits = tf.cast(model(points, training=False), tf.float32)
            return {"logits": logits, "probabilities": tf.nn.softmax(logits, -1),
                    "classes": tf.argmax(logits, -1, output_type=tf.int32)}

        spec = tf.TensorSpec([None, self._num_points(model), 3], tf.float32, name="points")
        return {"serving_default": (serve, [spec])}

    def verification_inputs(self, num_examples: int, image_size: int) -> np.ndarray:
        return self.arrays(self.config.eval_data)[0][:num_examples]

    def verification_labels(self, num_examples: int, image_size: int) -> np.ndarray:
        return self.arrays(self.config.eval_data)[1][:num_examples]

    def serving_verification(self, model: keras.Model, num_examples: int, image_size: int) -> list:
        points = self.verification_inputs(num_examples, image_size)
        return [("serving_default", {"points": points}, {"logits": np.asarray(model(points, training=False))})]

    def warmup_inputs(self, image_size: int, count: int) -> list[tuple[str, dict]]:
        points = self.verification_inputs(max(count, 1), image_size)
        return [("serving_default", {"points": points[i:i + 1]}) for i in range(min(count, len(points)))]

    def representative_dataset(self, num_examples: int, image_size: int) -> Iterable[list[np.ndarray]]:
        points = self.arrays(self.config.train_data)[0][:num_examples]
        for i in range(len(points)):
            yield [points[i:i + 1]]

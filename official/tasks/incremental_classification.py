"""Task-incremental classification (iCIFAR): a stream of tasks, each a block of consecutive classes.

Task k holds the classes [k C, (k + 1) C) of the dataset, relabelled 0..C-1, with its own head. The
model takes {"images", "task_id"}; training reads the tasks one after another (task k for the k-th
share of the run's steps; the last task takes any remainder), evaluation reports each task's top-1
and their mean, the lifelong-learning figure. Sources are those of image classification (CIFAR
pickles, image folders, TFRecords).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ConfigError, TaskConfig
from official.core.registry import register_task
from official.data import classification_input, image_preprocessing
from official.tasks.image_classification import ImageClassificationTask


@dataclasses.dataclass
class IncrementalTaskConfig(TaskConfig):
    name: str = "incremental_classification"
    num_tasks: int = 10  # tasks in the stream
    classes_per_task: int = 10  # consecutive class ids per task (task k: k C .. (k + 1) C - 1)
    export_task: int = 0  # the task whose network TFLite holds (the SavedModel has one signature per task)


def steps_per_task(config, num_examples: int | None) -> int:
    """Training steps of each task: the run's steps (trainer.train_steps, else epochs x examples / batch)
    split evenly over the tasks."""
    t = config.trainer
    total = t.train_steps
    if total <= 0:
        per_epoch = t.steps_per_epoch if t.steps_per_epoch > 0 else max((num_examples or 0) // t.global_batch_size, 1)
        total = t.epochs * per_epoch
    return max(total // config.task.num_tasks, 1)


@register_task("incremental_classification")
class IncrementalClassificationTask(ImageClassificationTask):
    """Per-task heads over one dataset split into class blocks."""

    def build_metrics(self) -> list:
        metrics: list = [keras.metrics.SparseCategoricalAccuracy(name="top1")]
        if self.config.task.classes_per_task > 5:
            metrics.append(keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5"))
        return metrics

    def _task_source(self, data, k: int, input_context=None, training=False):
        c = self.config.task.classes_per_task
        source = self._source(data, input_context, training)
        lo = tf.constant(k * c, tf.int64)

        def keep(example):
            label = tf.cast(example["label"], tf.int64)
            return tf.logical_and(label >= lo, label < lo + c)

        def relabel(example):
            return {**example, "label": tf.cast(example["label"], tf.int64) - lo}

        def narrow(ds):
            return None if ds is None else ds.filter(keep).map(relabel)

        return dataclasses.replace(source, examples=narrow(source.examples), decoded=narrow(source.decoded))

    def _check(self, data) -> None:
        cfg = self.config.task
        if cfg.num_tasks * cfg.classes_per_task > cfg.num_classes:
            raise ConfigError(
                f"task.num_tasks x task.classes_per_task = {cfg.num_tasks * cfg.classes_per_task} exceeds "
                f"task.num_classes = {cfg.num_classes}"
            )

    def task_dataset(self, data, k: int, training: bool, global_batch_size: int, input_context=None):
        """((images, task ids), labels) batches of task k alone (endless when training)."""
        ds = classification_input.build_dataset(
            data, training, global_batch_size, input_context=input_context,
            seed=None if self.config.runtime.seed is None else self.config.runtime.seed + k,
            source=self._task_source(data, k, input_context, training), deterministic=self.config.runtime.deterministic,
        )
        return ds.map(lambda x, y: ({"images": x, "task_id": tf.fill([tf.shape(x)[0]], k)}, y))

    def build_inputs(self, data, training, global_batch_size, input_context=None):
        self._check(data)
        tasks = range(self.config.task.num_tasks)
        if not training:
            parts = [self.task_dataset(data, k, False, global_batch_size, input_context) for k in tasks]
        else:
            steps = steps_per_task(self.config, self.num_examples(data))
            parts = [self.task_dataset(data, k, True, global_batch_size, input_context) for k in tasks]
            parts = [p.take(steps) for p in parts[:-1]] + [parts[-1]]
        ds = parts[0]
        for p in parts[1:]:
            ds = ds.concatenate(p)
        return ds

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None):
        """top1 of every task on its own classes (`top1_task<k>`) and `average_top1` over the tasks."""
        self.check_tide(tide)
        correct = np.zeros(self.config.task.num_tasks)
        total = np.zeros(self.config.task.num_tasks)
        for i, (inputs, labels) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            logits = np.asarray(model(inputs, training=False))
            task = inputs["task_id"].numpy()
            hit = np.argmax(logits, -1) == labels.numpy()
            np.add.at(correct, task, hit)
            np.add.at(total, task, 1)
        seen = total > 0
        out = {f"top1_task{k}": float(correct[k] / total[k]) for k in np.flatnonzero(seen)}
        out["average_top1"] = float(np.mean(correct[seen] / total[seen])) if seen.any() else 0.0
        out["examples"] = float(total.sum())
        return out

    # --- export: one signature per task, TFLite of one task ------------------------------------------
    def serving_signatures(self, model: keras.Model, image_size: int) -> dict[str, tuple[Callable, list]]:
        cfg = self._eval_cfg(image_size)
        spec = tf.TensorSpec([None, image_size, image_size, 3], tf.float32, name="images")

        def pack(logits):
            logits = tf.cast(logits, tf.float32)
            return {"logits": logits, "classes": tf.argmax(logits, -1, output_type=tf.int32)}

        def default(images, task_id):
            x = image_preprocessing.normalize(images, cfg.mean, cfg.std)
            return pack(model({"images": x, "task_id": task_id}, training=False))

        signatures = {"serving_default": (default, [spec, tf.TensorSpec([None], tf.int32, name="task_id")])}

        def one_task(net):
            def task_logits(images):
                return pack(net(image_preprocessing.normalize(images, cfg.mean, cfg.std), training=False))

            return task_logits

        for k in range(self.config.task.num_tasks):
            signatures[f"task_{k}"] = (one_task(model.task_model(k)), [spec])
        return signatures

    def serving_verification(self, model, num_examples, image_size):
        pixels, _, _ = self._eval_examples(num_examples, image_size)
        cfg = self._eval_cfg(image_size)
        x = image_preprocessing.normalize(pixels, cfg.mean, cfg.std).numpy()
        ids = (np.arange(len(x)) % self.config.task.num_tasks).astype(np.int32)
        checks = [("serving_default", {"images": pixels, "task_id": ids},
                   {"logits": np.asarray(model({"images": x, "task_id": ids}, training=False))})]
        for k in range(self.config.task.num_tasks):
            checks.append((f"task_{k}", {"images": pixels}, {"logits": np.asarray(model.task_model(k)(x, training=False))}))
        return checks

    def warmup_inputs(self, image_size: int, count: int):
        pixels, _, _ = self._eval_examples(max(count, 1), image_size)
        return [("serving_default", {"images": pixels[i : i + 1], "task_id": np.zeros([1], np.int32)}) for i in range(count)]

    def export_body(self, model: keras.Model) -> keras.Model:
        return model.task_model(self.config.task.export_task)

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        """Per-task top-1 of an artifact's `predict_fn({"images", "task_id"}) -> logits`."""
        return self.evaluate(lambda inputs, training=False: predict_fn(inputs), dataset, steps, tide)

    def saved_model_predict_fn(self, loaded):
        cfg = self.config.eval_data
        mean, std = np.asarray(cfg.mean, np.float32), np.asarray(cfg.std, np.float32)
        signature = loaded.signatures["serving_default"]

        def predict(inputs):
            pixels = tf.constant(np.asarray(inputs["images"], np.float32) * std + mean)
            return signature(images=pixels, task_id=tf.cast(inputs["task_id"], tf.int32))["logits"].numpy()

        return predict

    def prediction_records(self, outputs, labels, start):
        raise NotImplementedError("incremental_classification writes no predictions file")

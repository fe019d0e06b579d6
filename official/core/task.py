"""The Task seam between an experiment config and the trainer, evaluator and exporter.

A Task knows what is learned: how to read the data, which losses and metrics apply, how to evaluate
and what a served model receives. The trainer, `tools.evaluate` and `tools.export` only talk to this
interface, so a new kind of problem (detection, keypoints) is a new Task, not a new trainer.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import keras

from official.core import config as config_lib
from official.core import registry
from official.core.errors import BadValueError
from official.core.file_io import write_json
from official.core.model_files import build_network


class Task:
    """Base Task; subclasses implement `build_inputs` and usually the losses and metrics."""

    supports_tide = False  # whether `evaluate(..., tide=True)` can add a TIDE breakdown (detections)

    def __init__(self, config: config_lib.ExperimentConfig):
        self.config = config

    # --- model -------------------------------------------------------------------------------
    def build_model(self) -> keras.Model:
        """Builds the registered model named in `config.model` with the config's arguments (or loads
        `model.keras_file`)."""
        return build_network(self.config.model)

    # --- data --------------------------------------------------------------------------------
    def build_inputs(
        self,
        data: config_lib.DataConfig,
        training: bool,
        global_batch_size: int,
        input_context: Any = None,
    ) -> Any:
        """Returns a batched `tf.data.Dataset` of `(inputs, targets)`; infinite when training."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_inputs")

    def num_examples(self, data: config_lib.DataConfig) -> int | None:
        """Examples in one pass over `data`, when the reader knows it (for steps per epoch)."""
        return None

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self) -> Any:
        """The loss (or dict of losses) passed to `model.compile`."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_losses")

    def build_metrics(self) -> list[Any]:
        return []

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        """Compiles for `fit`; tasks with their own `train_step` override this."""
        model.compile(
            optimizer=optimizer,
            loss=self.build_losses(),
            metrics=self.build_metrics(),
            jit_compile=jit_compile,
        )

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(
        self, model: keras.Model, dataset: Any, steps: int | None = None, tide: bool = False,
        predictions_out: str | None = None,
    ) -> dict[str, Any]:
        """Metrics of `model` on `dataset` (the eval_results.json payload; nested dicts allowed).

        `tide=True` asks detection tasks to add the TIDE error breakdown under the key "tide";
        `predictions_out` is a path for the task's predictions file (detection: COCO results JSON).
        """
        self.check_tide(tide)
        if predictions_out:
            return self._evaluate_uncompiled(model, dataset, steps, predictions_out)
        if not model.compiled:
            return self._evaluate_uncompiled(model, dataset, steps)
        with warnings.catch_warnings():
            if steps is None:  # one whole pass: running out of data is the end of it, not a problem
                warnings.filterwarnings("ignore", "Your input ran out of data", UserWarning)
            results = model.evaluate(dataset, steps=steps, return_dict=True, verbose=0)
        return {k: float(v) for k, v in results.items()}

    def check_tide(self, tide: bool) -> None:
        """A one-line error when TIDE is asked of a task that has no detections to break down."""
        if tide and not self.supports_tide:
            raise BadValueError(f"--tide needs a detection task; {type(self).__name__} has no detections")

    def _evaluate_uncompiled(
        self, model: keras.Model, dataset: Any, steps: int | None, predictions_out: str | None = None
    ) -> dict[str, float]:
        """Loss and metrics of a model restored for inference, without compiling it (+ its predictions).

        Compiling would attach an optimizer whose slots a deferred checkpoint restore could fill with
        the training optimizer's values, so the loop is written out instead.
        """
        loss_fn = self.build_losses()
        metrics = [keras.metrics.Mean(name="loss"), *self.build_metrics()]
        records: list[dict[str, Any]] = []
        for i, (inputs, labels) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            outputs = model(inputs, training=False)
            metrics[0].update_state(loss_fn(labels, outputs))
            for metric in metrics[1:]:
                metric.update_state(labels, outputs)
            if predictions_out:
                records.extend(self.prediction_records(outputs, labels, len(records)))
        if predictions_out:
            write_json(records, predictions_out)
        return {m.name: float(m.result()) for m in metrics}

    def prediction_records(self, outputs: Any, labels: Any, start: int) -> list[dict[str, Any]]:
        """One JSON object per example of a batch (the `--predictions_out` file); `start` = examples before."""
        raise NotImplementedError(f"{type(self).__name__} does not write a predictions file")

    def evaluate_predict_fn(
        self, predict_fn: Callable[[Any], Any], dataset: Any, steps: int | None = None, tide: bool = False,
        predictions_out: str | None = None,
    ) -> dict[str, Any]:
        """Metrics of an exported artifact's predict function (SavedModel, TFLite) on `dataset`."""
        raise NotImplementedError(f"{type(self).__name__} cannot evaluate exported artifacts")

    def saved_model_predict_fn(self, loaded: Any) -> Callable[[Any], Any]:
        """A loaded SavedModel as the predict function `evaluate_predict_fn` takes."""
        raise NotImplementedError(f"{type(self).__name__} cannot evaluate SavedModels")

    def evaluate_saved_model(
        self, loaded: Any, global_batch_size: int, steps: int | None = None, tide: bool = False,
        predictions_out: str | None = None,
    ) -> dict[str, Any]:
        """Metrics of a loaded SavedModel on the eval data (tasks whose serving input differs from the
        model's, such as encoded images, override this to score `serving_default` itself)."""
        dataset = self.build_inputs(self.config.eval_data, False, global_batch_size)
        return self.evaluate_predict_fn(self.saved_model_predict_fn(loaded), dataset, steps, tide, predictions_out)

    # --- export ------------------------------------------------------------------------------
    def serving_signatures(self, model: keras.Model, image_size: int) -> dict[str, tuple[Callable, list]]:
        """`{signature_name: (fn, input_signature)}` for the SavedModel; must include serving_default."""
        raise NotImplementedError(f"{type(self).__name__} must implement serving_signatures")

    def export_body(self, model: keras.Model) -> keras.Model:
        """The network that TFLite and ONNX hold (the model itself unless it has training-only outputs)."""
        return model

    def quantized_agreement(self, reference: Any, quantized: Any) -> float | None:
        """How far an int8/dynamic artifact's outputs agree with Keras' (0-1); None = no such measure.
        Default: top-1 agreement of classifier logits (batch, classes)."""
        import numpy as np

        reference, quantized = np.asarray(reference), np.asarray(quantized)
        if reference.ndim != 2:
            return None
        return float(np.mean(np.argmax(reference, -1) == np.argmax(quantized, -1)))

    def representative_dataset(self, num_examples: int, image_size: int) -> Iterable[list[Any]]:
        """Calibration inputs for int8 TFLite, each a list with one float32 batch of size 1."""
        raise NotImplementedError(f"{type(self).__name__} must implement representative_dataset")

    def verification_inputs(self, num_examples: int, image_size: int) -> Any:
        """A float32 batch of real inputs (as the model takes them) to check exported artifacts."""
        raise NotImplementedError(f"{type(self).__name__} must implement verification_inputs")

    def verification_labels(self, num_examples: int, image_size: int) -> Any:
        """Labels aligned with `verification_inputs` where the task has them, else None."""
        return None


def build_task(config: config_lib.ExperimentConfig) -> Task:
    """The Task instance named by `config.task.name`."""
    return registry.get_task_cls(config.task.name)(config)

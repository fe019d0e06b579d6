"""The `daae_face_aging` task: age-labelled faces (official/data/face_ages.py), trained with `training.method:
gan` and the `daae` objective (objective.py), evaluated on age estimation and on aging (TF-side).

Evaluation (eval_results.json):
- age estimation: MAE and CS(t) of the posterior-mean age against the labels (official/evaluation/age_metrics.py),
  and MAE per true-age bin (the long tail);
- reconstruction_mse of the decoded posterior means;
- aging: every eval face re-rendered at each `task.target_ages`; `aging_mae` is the model's OWN age estimate of
  the aged faces against the targets (the paper uses an external estimator: not comparable), and
  `identity_cosine` the mean cosine between mu_identity of the input and of the aged face.
Serving (images float32 in [-1, 1] at the model's size): `serving_default` and `age`: image -> {age (B,) years};
`age_to`: image, target_age (B,) years -> {image}. TFLite holds `age` (image -> age).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.data import face_ages
from official.evaluation import age_metrics
from official.tasks.adversarial_task import AdversarialTask
from research.generative.daae import objective  # noqa: F401  (registers the objective)
from research.generative.daae.losses import age_estimate
from research.generative.daae.task_config import DAAETaskConfig, FaceAgeDataConfig


@registry.register_task("daae_face_aging")
class FaceAgingTask(AdversarialTask):
    TASK_NAME, TASK_CONFIG, DATA_CONFIG = "daae_face_aging", DAAETaskConfig, FaceAgeDataConfig
    DATA_FIELDS, OBJECTIVE_HINT = "source, path, split", "training.objective=daae"

    # --- data --------------------------------------------------------------------------------
    def _records(self, data: FaceAgeDataConfig) -> face_ages.FaceRecords:
        return face_ages.read_records(data.source, data.path, data.list_file, data.split, data.test_fraction)

    def num_examples(self, data: FaceAgeDataConfig) -> int:
        return len(self._records(data))

    def build_inputs(self, data: FaceAgeDataConfig, training: bool, global_batch_size: int, input_context=None):
        return face_ages.face_dataset(self._records(data), training, global_batch_size, data.image_size,
                                      data.horizontal_flip, self.config.runtime.seed, self._counter(), input_context)

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        forward = tf.function(lambda x: network(x, training=False), reduce_retracing=True)
        aged = tf.function(lambda x, a: network.age_to(x, a, training=False), reduce_retracing=True)
        encode = tf.function(lambda x: network.encoder(x, training=False), reduce_retracing=True)
        return self.score(forward, aged, encode, network.age_unit, dataset, steps)

    def score(self, forward, aged, encode, age_unit: float, dataset, steps=None) -> dict[str, Any]:
        t: DAAETaskConfig = self.config.task
        predicted, truth, mse, aging_error, cosine = [], [], [], [], []
        for i, batch in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            x = batch["image"]
            out = forward(x)
            predicted.append(np.asarray(out["age"]))
            truth.append(batch["age"].numpy())
            mse.append(np.mean(np.square(np.asarray(out["reconstruction"]) - x.numpy()), axis=(1, 2, 3)))
            source = np.asarray(out["mu_identity"])
            for target in t.target_ages:
                faces = aged(x, tf.fill([tf.shape(x)[0]], tf.constant(target, tf.float32)))
                again = encode(faces)
                aging_error.append(np.abs(np.asarray(age_estimate(again["mu_age"], age_unit)) - target))
                moved = np.asarray(again["mu_identity"])
                cosine.append(np.sum(source * moved, -1) / np.maximum(
                    np.linalg.norm(source, axis=-1) * np.linalg.norm(moved, axis=-1), 1e-12))
        if not predicted:
            raise ConfigError("eval_data: the eval split has no images")
        predicted, truth = np.concatenate(predicted), np.concatenate(truth)
        return {**age_metrics.age_metrics(predicted, truth, t.cs_threshold),
                "per_bin_mae": age_metrics.per_bin_mae(predicted, truth),
                "reconstruction_mse": float(np.concatenate(mse).mean()),
                "aging_mae": float(np.concatenate(aging_error).mean()),
                "identity_cosine": float(np.concatenate(cosine).mean()),
                "images": int(len(truth))}

    # --- export ------------------------------------------------------------------------------
    def _size(self) -> int:
        return int(self.config.eval_data.image_size)

    def serving_signatures(self, model, image_size: int) -> dict:
        s = self._size()

        def age(image):
            return {"age": model.estimate_age(image, training=False)}

        def age_to(image, target_age):
            return {"image": model.age_to(image, target_age, training=False)}

        image = tf.TensorSpec([None, s, s, 3], tf.float32, name="image")
        return {"serving_default": (age, [image]), "age": (age, [image]),
                "age_to": (age_to, [image, tf.TensorSpec([None], tf.float32, name="target_age")])}

    def export_body(self, model: keras.Model) -> keras.Model:
        """image -> age (years): the estimation path, the one TFLite holds."""
        inputs = keras.Input((self._size(), self._size(), 3), name="image")
        return keras.Model(inputs, age_estimate(model.encoder(inputs)["mu_age"], model.age_unit), name="daae_age")

    def _examples(self, n: int) -> np.ndarray:
        """Eval faces when the data is there, else smooth random images (export needs no data)."""
        try:
            return next(iter(self.build_inputs(self.config.eval_data, False, max(n, 1))))["image"].numpy()[:n]
        except (ConfigError, OSError, ValueError, StopIteration, tf.errors.OpError):
            s = self._size()
            coarse = np.random.default_rng(0).uniform(-1, 1, (n, max(s // 8, 1), max(s // 8, 1), 3)).astype(np.float32)
            return tf.image.resize(coarse, (s, s)).numpy()

    def _targets(self, n: int) -> np.ndarray:
        ages = np.asarray(self.config.task.target_ages or (30.0,), np.float32)
        return np.resize(ages, n)

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        x = self._examples(1)
        return [("age", {"image": x}) if i % 2 == 0 else ("age_to", {"image": x, "target_age": self._targets(1)})
                for i in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        x = self._examples(min(max(n, 1), 2))
        a = self._targets(len(x))
        age = np.asarray(model.estimate_age(x, training=False))
        return [("serving_default", {"image": x}, {"age": age}), ("age", {"image": x}, {"age": age}),
                ("age_to", {"image": x, "target_age": a},
                 {"image": np.asarray(model.age_to(tf.constant(x), tf.constant(a), training=False))})]

    def verification_inputs(self, num_examples: int, image_size: int):
        return self._examples(min(num_examples, 2))

    def representative_dataset(self, num_examples: int, image_size: int):
        for x in self._examples(min(num_examples, 8)):
            yield [x[None]]

    def quantized_agreement(self, reference, quantized) -> float | None:
        """Share of age estimates within 1 year of the float model's."""
        return float(np.mean(np.abs(np.asarray(reference) - np.asarray(quantized)) <= 1.0))

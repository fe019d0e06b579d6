"""The `image_translation` Task: unpaired two-domain data, a generator A -> B, FID/KID of its translations.

Training goes through `training.method: gan` (official/training/gan): the task builds the exported
generator and its data, and the GAN objective brings the discriminators and the losses. Batches are
{"a": (B, h, w, 3), "b": (B, h, w, 3)} in [-1, 1] (official/data/unpaired_images.py).

Evaluation translates every eval image of domain A and compares the translations with the eval images
of domain B: FID and KID (official/evaluation/gan_metrics.py) on the features that `task.features`
names (official/evaluation/gan_features.py), plus the mean |G(a) - a| (how much the generator changes
its input; 0 for an identity map). Serving: `serving_default` (image: float [-1, 1]) -> {image} and
`translate_uint8` (image: uint8 [0, 255]) -> {image: uint8}, at the eval crop size.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.data import unpaired_images
from official.evaluation import gan_features, gan_metrics
from official.tasks.adversarial_task import AdversarialTask
from official.tasks.image_translation_config import TranslationDataConfig, TranslationTaskConfig


def to_uint8(images):
    """[-1, 1] floats -> uint8 [0, 255] (rounded, clipped)."""
    return tf.cast(tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


def score_translations(t: TranslationTaskConfig, seed: int, fakes: list, reals: list, change: list) -> dict[str, Any]:
    """FID, KID and the mean input change of batches of translations against real target images (at most
    `t.max_eval_images`), on the features `t.features` names; shared by the translation tasks."""
    fakes, reals, change = np.concatenate(fakes), np.concatenate(reals), np.concatenate(change)
    if t.max_eval_images > 0:
        fakes, reals, change = fakes[: t.max_eval_images], reals[: t.max_eval_images], change[: t.max_eval_images]
    if len(fakes) < 2:
        raise ConfigError(f"eval_data: FID/KID need at least 2 images, the eval split has {len(fakes)}")
    features = gan_features.feature_fn(t.features, t.feature_weights)
    fake_f, real_f = features(fakes), features(reals)
    kid, kid_std = gan_metrics.kid_from_features(real_f, fake_f, t.kid_subsets, t.kid_subset_size, seed)
    return {"fid": gan_metrics.fid_from_features(real_f, fake_f), "kid": kid, "kid_std": kid_std,
            "input_change_l1": float(change.mean()), "images": int(len(fakes)), "features": t.features}


@registry.register_task("image_translation")
class ImageTranslationTask(AdversarialTask):
    INPUT_CHANNELS = 3  # channels of domain A images (serving signatures, export examples); subclasses may change it
    TASK_NAME, TASK_CONFIG, DATA_CONFIG = "image_translation", TranslationTaskConfig, TranslationDataConfig
    DATA_FIELDS = "path, split, crop_size"

    # --- data --------------------------------------------------------------------------------
    def num_examples(self, data: TranslationDataConfig) -> int:
        return max(unpaired_images.domain_sizes(data.path, data.split, data.source).values())

    def build_inputs(self, data: TranslationDataConfig, training: bool, global_batch_size: int,
                     input_context: Any = None):
        return unpaired_images.unpaired_dataset(
            data.path, data.split, training, global_batch_size, data.load_size, data.crop_size,
            data.horizontal_flip, self.config.runtime.seed, self._counter(), input_context, data.source)

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        predict = tf.function(lambda x: network(x, training=False), reduce_retracing=True)
        return self._score(lambda x: predict(tf.nest.map_structure(tf.constant, x)).numpy(), dataset, steps)

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        return self._score(lambda x: np.asarray(predict_fn(x)), dataset, steps)

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]
        return lambda x: serve(image=tf.constant(x, tf.float32))["image"].numpy()

    def translation_inputs(self, batch: dict) -> Any:
        """What the generator takes from an eval batch (domain A images; TSIT adds a style and noise)."""
        return batch["a"].numpy()

    def _score(self, translate, dataset, steps=None) -> dict[str, Any]:
        t: TranslationTaskConfig = self.config.task
        fakes, reals, change = [], [], []
        for i, batch in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            a = batch["a"].numpy()
            fake = translate(self.translation_inputs(batch))
            fakes.append(fake)
            reals.append(batch["b"].numpy())
            # |G(a) - a| where a is an image (a label-map input, as in semantic synthesis, has no such change)
            change.append(np.abs(fake - a).mean(axis=(1, 2, 3)) if a.shape == fake.shape else np.full(len(a), np.nan))
        return score_translations(t, self.config.runtime.seed, fakes, reals, change)

    # --- export ------------------------------------------------------------------------------
    def _size(self) -> tuple[int, int]:
        return tuple(int(s) for s in self.config.eval_data.crop_size)

    def serving_signatures(self, model, image_size: int) -> dict:
        h, w = self._size()

        def translate(image):
            return {"image": model(image, training=False)}

        def translate_uint8(image):
            x = tf.cast(image, tf.float32) / 127.5 - 1.0
            return {"image": to_uint8(model(x, training=False))}

        c = self.INPUT_CHANNELS
        return {"serving_default": (translate, [tf.TensorSpec([None, h, w, c], tf.float32, name="image")]),
                "translate_uint8": (translate_uint8, [tf.TensorSpec([None, h, w, c], tf.uint8, name="image")])}

    def _examples(self, n: int) -> np.ndarray:
        """Eval images of domain A when the data is there, else smooth random images (export needs no data)."""
        data = self.config.eval_data
        try:
            batch = next(iter(self.build_inputs(data, False, max(n, 1))))
            return batch["a"].numpy()[:n]
        except (ConfigError, OSError, ValueError, StopIteration, tf.errors.OpError):
            h, w = self._size()
            rng = np.random.default_rng(0)
            coarse = rng.uniform(-1, 1, (n, max(h // 8, 1), max(w // 8, 1), self.INPUT_CHANNELS)).astype(np.float32)
            return tf.image.resize(coarse, (h, w)).numpy()

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        x = self._examples(1)
        return [("serving_default", {"image": x}) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        # translate_uint8 is the same graph plus rounding: a float difference of 1e-7 can move a value across
        # a rounding boundary, so it is checked by the task's tests with a tolerance of one level, not here.
        x = self._examples(min(n, 2))
        return [("serving_default", {"image": x}, {"image": np.asarray(model(x, training=False))})]

    def verification_inputs(self, num_examples: int, image_size: int):
        return self._examples(min(num_examples, 2))

    def representative_dataset(self, num_examples: int, image_size: int):
        for x in self._examples(min(num_examples, 8)):
            yield [x[None]]

    def quantized_agreement(self, reference, quantized) -> float | None:
        """Share of output pixels within 0.1 (on the [-1, 1] scale) of the float model's."""
        return float(np.mean(np.abs(np.asarray(reference) - np.asarray(quantized)) <= 0.1))

"""The `few_shot_translation` Task (FUNIT / COCO-FUNIT): translate a content image into the class of a style
image; classes carry labels (the projection discriminator needs them), pairs are unaligned.

Batches (official/data/few_shot_images.py): {"content", "style": (B, h, w, 3) in [-1, 1], "content_label",
"style_label": (B,) int32}. The generator takes {"content", "style"}. Evaluation translates each eval content
image with its paired style image and scores the translations against the style images: FID and KID on
`task.features` (KID with one subset of up to 256 images: COCO-FUNIT's model selection), plus the mean
|G(x, y) - x|. It reuses the image_translation task's training hook-up and metric code; it exists because
that task's batches hold two unlabelled domains and its generator one input.
Serving: `serving_default` (content, style: float [-1, 1]) -> {image}; `translate_uint8` the same in uint8.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.data import few_shot_images
from official.tasks.few_shot_translation_config import FewShotDataConfig, FewShotTranslationTaskConfig
from official.tasks.image_translation import ImageTranslationTask, score_translations, to_uint8


@registry.register_task("few_shot_translation")
class FewShotTranslationTask(ImageTranslationTask):
    TASK_NAME, TASK_CONFIG, DATA_CONFIG = "few_shot_translation", FewShotTranslationTaskConfig, FewShotDataConfig
    DATA_FIELDS = "path, load_size, crop_size"

    def num_examples(self, data: FewShotDataConfig) -> int:
        return max(few_shot_images.sizes(data.path).values())

    def build_inputs(self, data: FewShotDataConfig, training: bool, global_batch_size: int, input_context: Any = None):
        return few_shot_images.few_shot_dataset(
            data.path, training, global_batch_size, data.load_size, data.crop_size, data.max_scale,
            data.horizontal_flip, self.config.runtime.seed, self._counter(), input_context)

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        predict = tf.function(lambda c, s: network({"content": c, "style": s}, training=False), reduce_retracing=True)
        return self._score(lambda c, s: predict(tf.constant(c), tf.constant(s)).numpy(), dataset, steps)

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        return self._score(lambda c, s: np.asarray(predict_fn({"content": c, "style": s})), dataset, steps)

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]
        return lambda x: serve(content=tf.constant(x["content"], tf.float32),
                               style=tf.constant(x["style"], tf.float32))["image"].numpy()

    def _score(self, translate, dataset, steps=None) -> dict[str, Any]:
        t: FewShotTranslationTaskConfig = self.config.task
        fakes, reals, change = [], [], []
        for i, batch in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            content, style = batch["content"].numpy(), batch["style"].numpy()
            fake = translate(content, style)
            fakes.append(fake)
            reals.append(style)
            change.append(np.abs(fake - content).mean(axis=(1, 2, 3)))
        return score_translations(t, self.config.runtime.seed, fakes, reals, change)

    # --- export ------------------------------------------------------------------------------
    def serving_signatures(self, model, image_size: int) -> dict:
        h, w = self._size()

        def translate(content, style):
            return {"image": model({"content": content, "style": style}, training=False)}

        def translate_uint8(content, style):
            c, s = (tf.cast(v, tf.float32) / 127.5 - 1.0 for v in (content, style))
            return {"image": to_uint8(model({"content": c, "style": s}, training=False))}

        spec = lambda dtype, name: tf.TensorSpec([None, h, w, 3], dtype, name=name)  # noqa: E731
        return {"serving_default": (translate, [spec(tf.float32, "content"), spec(tf.float32, "style")]),
                "translate_uint8": (translate_uint8, [spec(tf.uint8, "content"), spec(tf.uint8, "style")])}

    def _pairs(self, n: int) -> dict[str, np.ndarray]:
        """Eval (content, style) pairs when the data is there, else smooth random images."""
        try:
            batch = next(iter(self.build_inputs(self.config.eval_data, False, max(n, 1))))
            return {"content": batch["content"].numpy()[:n], "style": batch["style"].numpy()[:n]}
        except (ConfigError, OSError, ValueError, StopIteration, tf.errors.OpError):
            h, w = self._size()
            rng = np.random.default_rng(0)
            coarse = rng.uniform(-1, 1, (2 * n, max(h // 8, 1), max(w // 8, 1), 3)).astype(np.float32)
            images = tf.image.resize(coarse, (h, w)).numpy()
            return {"content": images[:n], "style": images[n:]}

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        return [("serving_default", self._pairs(1)) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        x = self._pairs(min(n, 2))
        return [("serving_default", x, {"image": np.asarray(model(x, training=False))})]

    def verification_inputs(self, num_examples: int, image_size: int):
        return self._pairs(min(num_examples, 2))

    def representative_dataset(self, num_examples: int, image_size: int):
        x = self._pairs(min(num_examples, 8))
        for i in range(len(x["content"])):
            yield [x["content"][i:i + 1], x["style"][i:i + 1]]

"""The `tsit_translation` task: image_translation with TSIT's generator inputs.

AST/MMIS: the unpaired reader (official/data/unpaired_images.py) gives content (domain A) and style
(domain B) images; the generator gets {"content": a, "style": b, "noise"}. SIS: `source: cityscapes`
reads Cityscapes labels (official/data/cityscapes_labels.py) into {"a": one-hot + instance edges,
"b": photo}; the generator gets {"content": a, "z"}. Evaluation draws the noise / z from the run's
seed (reproducible FID/KID of G(a, b) against b). Serving: `serving_default` (content, style, noise:
float) -> {image}; `translate_uint8` (content, style: uint8; noise) -> {image: uint8}; SIS:
`serving_default` (content label map, z) -> {image}. Noise is an input so exports are deterministic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.data import cityscapes_labels
from official.tasks.image_translation import ImageTranslationTask, to_uint8
from official.tasks.image_translation_config import TranslationDataConfig
from research.generative.tsit import experiments, objective  # noqa: F401  (registers the experiments and training.objective: tsit)
from research.generative.tsit.inference import bottleneck, fixed_noise


@registry.register_task("tsit_translation")
class TSITTranslationTask(ImageTranslationTask):
    @property
    def generator_config(self) -> dict:
        return vars(self.config.model)

    @property
    def ast(self) -> bool:
        return self.generator_config["mode"] == "ast"

    # --- data --------------------------------------------------------------------------------
    def num_examples(self, data: TranslationDataConfig) -> int:
        if data.source == "cityscapes":
            return len(cityscapes_labels.list_examples(data.path, data.split))
        return super().num_examples(data)

    def build_inputs(self, data: TranslationDataConfig, training: bool, global_batch_size: int, input_context: Any = None):
        if data.source == "cityscapes":
            return cityscapes_labels.cityscapes_dataset(
                data.path, data.split, training, global_batch_size, data.crop_size, data.horizontal_flip,
                self.config.runtime.seed, self._counter(), self.generator_config["semantic_nc"] - 1, input_context)
        return super().build_inputs(data, training, global_batch_size, input_context)

    # --- evaluation --------------------------------------------------------------------------
    def translation_inputs(self, batch: dict) -> dict:
        a = batch["a"].numpy()
        inputs = {"content": a, **fixed_noise(self.generator_config, len(a), self.config.runtime.seed)}
        if self.ast:
            inputs["style"] = batch["b"].numpy()
        return inputs

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]
        return lambda x: serve(**{k: tf.constant(v, tf.float32) for k, v in x.items()})["image"].numpy()

    # --- export ------------------------------------------------------------------------------
    def _specs(self, dtype=tf.float32) -> list:
        cfg, (h, w) = self.generator_config, self._size()
        if self.ast:
            sh, sw = bottleneck(cfg)
            return [tf.TensorSpec([None, h, w, 3], dtype, name="content"), tf.TensorSpec([None, h, w, 3], dtype, name="style"),
                    tf.TensorSpec([None, sh, sw, 3], tf.float32, name="noise")]
        specs = [tf.TensorSpec([None, h, w, cfg["semantic_nc"]], tf.float32, name="content")]
        if cfg["use_vae"]:
            specs.append(tf.TensorSpec([None, cfg["z_dim"]], tf.float32, name="z"))
        return specs

    def serving_signatures(self, model, image_size: int) -> dict:
        names = [s.name for s in self._specs()]

        def translate(*args):
            return {"image": model(dict(zip(names, args, strict=True)), training=False)}

        signatures = {"serving_default": (translate, self._specs())}
        if self.ast:
            def translate_uint8(content, style, noise):
                x = {"content": tf.cast(content, tf.float32) / 127.5 - 1.0, "style": tf.cast(style, tf.float32) / 127.5 - 1.0,
                     "noise": noise}
                return {"image": to_uint8(model(x, training=False))}

            signatures["translate_uint8"] = (translate_uint8, self._specs(tf.uint8))
        return signatures

    def _example_inputs(self, n: int) -> dict:
        try:
            batch = next(iter(self.build_inputs(self.config.eval_data, False, max(n, 1))))
            return {k: v[:n] for k, v in self.translation_inputs(batch).items()}
        except (ConfigError, OSError, ValueError, StopIteration, tf.errors.OpError):  # export needs no data: smooth random inputs of the signature's shapes
            rng = np.random.default_rng(0)
            out = {s.name: rng.uniform(-1, 1, [n, *s.shape[1:]]).astype(np.float32) for s in self._specs()}
            out.update(fixed_noise(self.generator_config, n, self.config.runtime.seed))
            return out

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        x = self._example_inputs(1)
        return [("serving_default", x) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        x = self._example_inputs(min(n, 2))
        return [("serving_default", x, {"image": np.asarray(model(x, training=False))})]

    def verification_inputs(self, num_examples: int, image_size: int):
        return self._example_inputs(min(num_examples, 2))

    def representative_dataset(self, num_examples: int, image_size: int):
        x = self._example_inputs(min(num_examples, 4))
        for i in range(len(x["content"])):
            yield [v[i:i + 1] for v in x.values()]

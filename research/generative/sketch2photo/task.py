"""The `sketch2photo` task: the image_translation task (official/tasks/image_translation.py) with
Sketch2Photo's data (the card's "Data"; TF-side).

Stage 1 (`task.stage: 1`): both domains are converted to gray (0.299 R + 0.587 G + 0.114 B, PIL's 'L'),
1 channel; training batches also carry, per sketch, a noise-stroke image from ROOT/train_noise (when the
folder is missing, another training sketch serves as the stroke image, and this is logged), another random
training sketch (the patch source) and three uniform draws (choice, window row, window column) that the
`sketch2photo` objective turns into the corrupted input. Stage 2 (`task.stage: 2`): A are gray images
(3-channel files), B RGB photos; training batches carry a random reference photo of B and a draw (use
it or not). Draws are stateless in (seed, batch index, input pipeline), so a run's corruptions repeat.
Evaluation: FID/KID of G_A's translations against the (gray, stage 1) test photos; serving takes
(B, H, W, 1) sketches at stage 1.
"""

from __future__ import annotations

import os

import tensorflow as tf
from absl import logging

from official.core import registry
from official.data import unpaired_images
from official.tasks.image_translation import ImageTranslationTask
from research.generative.sketch2photo import objective  # noqa: F401  (registers the objectives)


def to_gray(images: tf.Tensor) -> tf.Tensor:
    return tf.image.rgb_to_grayscale(images)


@registry.register_task("sketch2photo")
class Sketch2PhotoTask(ImageTranslationTask):
    def __init__(self, config):
        super().__init__(config)
        if config.task.stage not in (1, 2):
            from official.core.config import ConfigError
            raise ConfigError(f"task.stage: expected 1 or 2, got {config.task.stage}")
        self.INPUT_CHANNELS = 1 if config.task.stage == 1 else 3

    def _stream(self, paths, data, seed, input_context):
        return unpaired_images.image_stream(paths, True, data.load_size, data.crop_size, data.horizontal_flip, seed,
                                            self._counter(), input_context)

    def build_inputs(self, data, training, global_batch_size, input_context=None):
        ds = super().build_inputs(data, training, global_batch_size, input_context)
        stage = self.config.task.stage
        if stage == 1:
            ds = ds.map(lambda e: {"a": to_gray(e["a"]), "b": to_gray(e["b"])})
        if not training:
            return ds
        seed = int(self.config.runtime.seed or 0)
        per_replica = (input_context.get_per_replica_batch_size(global_batch_size) if input_context is not None
                       else global_batch_size)
        pipeline = input_context.input_pipeline_id if input_context is not None else 0
        if stage == 1:
            sketches = unpaired_images.domain_paths(data.path, data.split, "A")
            folder = self.config.task.noise_folder or os.path.join(data.path, f"{data.split}_noise")
            if os.path.isdir(folder):
                noise_paths = unpaired_images.domain_paths(os.path.dirname(folder.rstrip("/")), "",
                                                           os.path.basename(folder.rstrip("/")))
            else:
                logging.info("sketch2photo: %s not found; other training sketches stand in for noise strokes", folder)
                noise_paths = sketches
            extras = {"noise": self._stream(noise_paths, data, seed + 11, input_context).map(to_gray),
                      "other": self._stream(sketches, data, seed + 13, input_context).map(to_gray)}
        else:
            extras = {"reference": self._stream(unpaired_images.domain_paths(data.path, data.split, "B"), data,
                                                seed + 17, input_context)}
        extra = tf.data.Dataset.zip(extras).batch(per_replica, drop_remainder=True)

        def merge(i, batch, more):
            draws = tf.random.stateless_uniform([per_replica, 3], tf.stack([tf.cast(i, tf.int32),
                                                                            seed * 1009 + pipeline]))
            return {**batch, **more, "draws": draws}

        return tf.data.Dataset.zip((ds, extra)).enumerate().map(lambda i, x: merge(i, *x))

"""Sample grids during GAN training: every N steps the exported generator translates a fixed batch of eval
images, written to TensorBoard (MODEL_DIR/samples, tag "translations") and as MODEL_DIR/samples/step_N.png
(the grids the model cards show). Row 1: inputs; row 2: translations."""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from official.core.file_io import write_bytes


def grid(inputs: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """(2 * H, N * W, 3) uint8: inputs above their translations ([-1, 1] floats; 1-channel repeated)."""

    def row(x):
        x = np.asarray(x, np.float32)
        if x.shape[-1] == 1:
            x = np.repeat(x, 3, axis=-1)
        x = np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)
        return np.concatenate(list(x), axis=1)

    return np.concatenate([row(inputs), row(outputs)], axis=0)


class SampleGrids(keras.callbacks.Callback):
    def __init__(self, model_dir: str, images: np.ndarray, every_n_steps: int, network_fn, enabled: bool = True):
        super().__init__()
        self.directory = os.path.join(model_dir, "samples")
        self.images = np.asarray(images, np.float32)
        self.every = int(every_n_steps)
        self.network_fn = network_fn  # () -> the network to sample (the average when there is one)
        self.enabled = enabled
        self.writer = None

    def _write(self, step: int) -> None:
        picture = grid(self.images, np.asarray(self.network_fn()(self.images, training=False)))
        os.makedirs(self.directory, exist_ok=True)
        if self.writer is None:
            self.writer = tf.summary.create_file_writer(self.directory)
        with self.writer.as_default():
            tf.summary.image("translations", picture[None], step=step)
        self.writer.flush()
        write_bytes(os.path.join(self.directory, f"step_{step:07d}.png"), tf.io.encode_png(picture).numpy())

    def on_train_batch_end(self, batch, logs=None):
        if not self.enabled or self.every <= 0:
            return
        step = int(self.model.optimizer.iterations.numpy())
        if step % self.every == 0:
            self._write(step)

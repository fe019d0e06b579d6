"""Training callbacks: keep-k checkpoints, TensorBoard scalars, plain-text progress lines.

Checkpoints are `tf.train.Checkpoint`s of the model and optimizer (optimizer.iterations is the global
step), written at the end of every loop of `steps_per_loop` steps by a `CheckpointManager` that keeps the
last k. In multi-worker runs every worker must take part in saving; non-chief workers write to a
throw-away folder, as Model Garden does, and every worker restores from the chief's MODEL_DIR/checkpoints
(MODEL_DIR on a filesystem all workers share), so all replicas resume at the same step and weights.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

import keras
import tensorflow as tf


class CheckpointCallback(keras.callbacks.Callback):
    """Saves model + optimizer at every loop end; `restore()` resumes from the newest checkpoint."""

    def __init__(self, model_dir: str, model: keras.Model, optimizer, max_to_keep: int, chief: bool = True, worker: str = "",
                 extras: dict | None = None):
        super().__init__()
        self.chief = chief
        directory = os.path.join(model_dir, "checkpoints")
        if not chief:
            directory = os.path.join(model_dir, ".tmp_workers", worker or "worker")
        self.directory = directory
        self.restore_directory = os.path.join(model_dir, "checkpoints")  # the chief's, for every worker
        # extras: a training method's own state (a noise generator, its replay buffer), saved beside the model.
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, **(extras or {}))
        self.manager = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep=max_to_keep)
        self.optimizer = optimizer

    def restore(self) -> int:
        """Restores the newest checkpoint of MODEL_DIR/checkpoints if any (on every worker: a non-chief
        one that started fresh while the chief resumed would run other steps and weights); returns the
        restored step (0 when starting fresh)."""
        latest = tf.train.latest_checkpoint(self.restore_directory)
        if latest is not None:
            self.checkpoint.restore(latest).assert_existing_objects_matched()
        return int(self.optimizer.iterations.numpy())

    def on_epoch_end(self, epoch, logs=None):
        self.manager.save(checkpoint_number=int(self.optimizer.iterations.numpy()))
        if not self.chief:
            shutil.rmtree(self.directory, ignore_errors=True)


class ScalarLogger(keras.callbacks.Callback):
    """Writes loss, metrics, learning rate and steps/sec to MODEL_DIR/train and MODEL_DIR/validation,
    indexed by the global step, and prints `train | step | steps/sec | loss | lr` lines when not on a tty."""

    def __init__(self, model_dir: str, optimizer, log_every_n_steps: int, print_lines: bool, enabled: bool = True):
        super().__init__()
        self.optimizer = optimizer
        self.log_every = max(int(log_every_n_steps), 1)
        self.print_lines = print_lines
        self.enabled = enabled
        self.train_writer = tf.summary.create_file_writer(os.path.join(model_dir, "train")) if enabled else None
        self.val_writer = tf.summary.create_file_writer(os.path.join(model_dir, "validation")) if enabled else None
        self._t0 = time.time()
        self._step0 = 0
        self._line_t0 = time.time()
        self._line_step0 = 0

    def _step(self) -> int:
        return int(self.optimizer.iterations.numpy())

    def _lr(self) -> float:
        lr = self.optimizer.learning_rate
        return float(lr.numpy() if hasattr(lr, "numpy") else lr)

    def on_epoch_begin(self, epoch, logs=None):
        self._t0, self._step0 = time.time(), self._step()
        self._line_t0, self._line_step0 = self._t0, self._step0

    def on_train_batch_end(self, batch, logs=None):
        if not self.print_lines:
            return
        step = self._step()
        if step % self.log_every == 0:
            rate = (step - self._line_step0) / max(time.time() - self._line_t0, 1e-9)
            loss = (logs or {}).get("loss", float("nan"))
            print(f"train | step {step:7d} | steps/sec {rate:7.2f} | loss {float(loss):.4f} | lr {self._lr():.3e}", flush=True)
            self._line_t0, self._line_step0 = time.time(), step

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        step = self._step()
        rate = (step - self._step0) / max(time.time() - self._t0, 1e-9)
        if self.enabled:
            with self.train_writer.as_default(step=step):
                for k, v in logs.items():
                    if not k.startswith("val_"):
                        tf.summary.scalar(k, float(v))
                tf.summary.scalar("learning_rate", self._lr())
                tf.summary.scalar("steps_per_second", rate)
            with self.val_writer.as_default(step=step):
                for k, v in logs.items():
                    if k.startswith("val_"):
                        tf.summary.scalar(k[4:], float(v))
            self.train_writer.flush()
            self.val_writer.flush()
        if self.print_lines:
            metrics = " | ".join(f"{k} {float(v):.4f}" for k, v in logs.items())
            print(f"loop end | step {step:7d} | steps/sec {rate:7.2f} | {metrics}", flush=True)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()

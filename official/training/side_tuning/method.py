"""`training.method: side_tuning`: the incremental stream with one trainable task at a time.

The one trainer fits the whole stream. A callback follows the global step: when task k begins, only
task k's side, blend and head are left trainable and Keras' train function is rebuilt, so the earlier
tasks' variables are never handed to the optimizer again (Adam's momentum would otherwise keep moving
them with zero gradients, which is forgetting). With `alpha_schedule: curriculum` the callback sets
task k's alpha every step instead of learning it. Before the stream, the base's weights are loaded
and each side is distilled from the base (S(x) regresses B(x)), the official initialisation.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.registry import register_training_method
from official.tasks.incremental_classification import steps_per_task
from official.training.method import TrainingMethod
from official.training.pretrained import restore_weights
from official.training.side_tuning.config import SideTuningConfig
from official.vision.side_tuning.layers import logit


def _copy_layers(source: keras.Model, target: keras.Model, rename=lambda name: name) -> int:
    """Copies the weights of every `source` layer into the `target` layer named `rename(name)`."""
    copied = 0
    for layer in source.layers:
        if layer.weights:
            target.get_layer(rename(layer.name)).set_weights(layer.get_weights())
            copied += 1
    return copied


def load_base(model: keras.Model, checkpoint: str, classes: int) -> None:
    """Loads a base checkpoint (a classifier with `classes` outputs, or the bare feature network when
    0) and copies its weights into `model`'s frozen base."""
    base = model.get_layer("base")
    head = {"classes": classes} if classes > 0 else {"include_top": False, "pooling": "avg"}
    full = registry.create_model(model.constructor_args["base"], input_shape=base.input_shape[1:], **head)
    restore_weights(full, checkpoint, "training.base_checkpoint")
    _copy_layers(full if classes <= 0 else full.feature_model(), base)


def load_sides(model: keras.Model, checkpoint: str) -> None:
    """Loads FCN4 weights (`fcn4_side`, e.g. the official distilled side) into every task's side."""
    side = registry.create_model("fcn4_side", input_shape=model.get_layer("base").input_shape[1:])
    restore_weights(side, checkpoint, "training.side_checkpoint")
    for k in range(model.num_tasks):
        _copy_layers(side, model, lambda name, k=k: name.replace("fcn4_", f"side{k}_", 1))


def distill_side(model: keras.Model, k: int, images, steps: int, lr: float) -> tuple[float, float]:
    """Trains side k alone to regress the base's pooled feature (MSE); returns (MSE before, after)."""
    base = model.get_layer("base")
    side = keras.Model(model.images_input, model.get_layer(f"side{k}_pool").output)
    variables = side.trainable_variables
    optimizer = keras.optimizers.Adam(lr)
    optimizer.build(variables)
    images = tf.convert_to_tensor(images, tf.float32)
    target = base(images, training=False)

    def mse():
        return float(tf.reduce_mean(tf.square(side(images, training=False) - target)))

    before = mse()
    batch = min(64, int(images.shape[0]))
    rng = np.random.default_rng(k)
    for _ in range(steps):
        idx = rng.choice(int(images.shape[0]), batch, replace=False)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(side(tf.gather(images, idx), training=True) - tf.gather(target, idx)))
        optimizer.apply(tape.gradient(loss, variables), variables)
    return before, mse()


class TaskPhases(keras.callbacks.Callback):
    """Keeps exactly the current task's variables trainable (and sets its curriculum alpha)."""

    def __init__(self, steps_per_task: int, cfg: SideTuningConfig):
        super().__init__()
        self.steps_per_task = steps_per_task
        self.cfg = cfg
        self.current = -1

    def task_at(self, step: int) -> int:
        return min(step // self.steps_per_task, self.model.num_tasks - 1)

    def activate(self, k: int) -> None:
        model = self.model
        for layer in model.layers:
            if layer.name.startswith(("side", "blend", "head")):
                mine = layer.name.startswith((f"side{k}_", f"blend{k}", f"head{k}"))
                layer.trainable = mine and not (self.cfg.alpha_schedule == "curriculum" and layer.name.startswith("blend"))
        model.make_train_function(force=True)
        self.current = k
        print(f"side-tuning: task {k} of {model.num_tasks} (step {int(model.optimizer.iterations.numpy())})", flush=True)

    def on_train_batch_begin(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        k = self.task_at(step)
        if k != self.current:
            self.activate(k)
        if self.cfg.alpha_schedule == "curriculum":
            frac = (step - k * self.steps_per_task) / max(self.steps_per_task - 1, 1)
            alpha = self.cfg.alpha_start + (self.cfg.alpha_end - self.cfg.alpha_start) * min(frac, 1.0)
            self.model.get_layer(f"blend{k}").a.assign(logit(alpha))


@register_training_method("side_tuning")
class SideTuning(TrainingMethod):
    config_cls = SideTuningConfig

    def wrap(self, model: keras.Model) -> keras.Model:
        cfg: SideTuningConfig = self.config.training
        if not hasattr(model, "task_model"):
            raise ConfigError(f"training.method: side_tuning needs a side-tuning model, got {self.config.model.name}")
        if cfg.alpha_schedule not in ("learned", "curriculum"):
            raise ConfigError(f"training.alpha_schedule: expected learned or curriculum, got {cfg.alpha_schedule!r}")
        if cfg.side_init not in ("distill", "checkpoint", "random"):
            raise ConfigError(f"training.side_init: expected distill, checkpoint or random, got {cfg.side_init!r}")
        if cfg.base_checkpoint:
            load_base(model, cfg.base_checkpoint, cfg.base_classes)
        else:
            print("side-tuning: training.base_checkpoint is empty, the frozen base keeps its random weights", flush=True)
        if cfg.side_init == "checkpoint":
            if not cfg.side_checkpoint:
                raise ConfigError("training.side_checkpoint: side_init=checkpoint needs FCN4 weights")
            load_sides(model, cfg.side_checkpoint)
        return model

    def prepare(self, model: keras.Model, resumed: int) -> None:
        """Before the first step of a fresh run: distil every side from the base on training images."""
        cfg: SideTuningConfig = self.config.training
        if resumed or cfg.side_init != "distill" or cfg.distill_steps <= 0:
            return
        ds = self.task.build_inputs(self.config.train_data, True, 64)
        images = np.concatenate([x["images"].numpy() for x, _ in ds.take(4)])
        for k in range(model.num_tasks):
            before, after = distill_side(model, k, images, cfg.distill_steps, cfg.distill_lr)
            print(f"side-tuning: side {k} distilled from the base, feature MSE {before:.4f} -> {after:.4f}", flush=True)

    def callbacks(self, model: keras.Model) -> list:
        n = self.task.num_examples(self.config.train_data)
        return [TaskPhases(steps_per_task(self.config, n), self.config.training)]

"""Side-Tuning's networks (Zhang et al., ECCV 2020): a frozen base plus, per task, a side network, a blend and a head.

R_k(x) = alpha_k B(x) + (1 - alpha_k) S_k(x), logits = T_k(R_k(x)) (Zhang et al., ECCV 2020). Inputs
are the images and each image's task id; every task's branch is computed and the id selects one, so a
batch may mix tasks and the unselected branches get exactly zero gradient. The base runs in inference
mode (frozen BatchNorm statistics). `task_model(k)` is task k alone (images -> logits), what the
per-task serving signatures and TFLite hold.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core import registry
from official.core.base_model import ZooModel
from official.vision import resnet  # noqa: F401  (registers the bases without the zoo index: no TensorFlow)
from official.vision.side_tuning.layers import AlphaBlend, DenseBlend, fcn4


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SelectTask(layers.Layer):
    """(batch, tasks, classes) logits + (batch,) task ids -> (batch, classes) of each example's task."""

    def call(self, stacked, task_id):
        mask = ops.one_hot(ops.cast(task_id, "int32"), ops.shape(stacked)[1], dtype=stacked.dtype)
        return ops.sum(stacked * mask[:, :, None], axis=1)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class FCN4(ZooModel):
    """The FCN4 side alone, images -> pooled 64-d feature: what the official distilled side
    (`fcn4-cifar.pth`) converts into, and what `training.side_checkpoint` loads into every side.

    Args:
        input_shape: (height, width, 3).
    """

    def __init__(self, input_shape: tuple[int, int, int] = (32, 32, 3), **kwargs):
        images = keras.Input(shape=tuple(input_shape), name="images")
        super().__init__(inputs=images, outputs=fcn4(images, name="fcn4"), **kwargs)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SideTuneNet(ZooModel):
    """Side-tuning over a registered base classifier's pooled feature.

    Args:
        base: registered base model (built without its classifier: include_top=False, pooling="avg").
        num_tasks: tasks of the incremental stream, each with its own side, blend and head.
        classes_per_task: outputs of each task's head.
        input_shape: (height, width, 3).
        merge: "alpha" (alpha base + (1 - alpha) side) | "dense" (softmax over base and sides 0..k).
        initial_alpha: alpha at the start (0.5: a = 0, the official init).
        trainable_alpha: learn alpha; False holds initial_alpha (1.0 = feature extraction, 0.0 = side only).
    """

    def __init__(
        self,
        base: str = "resnet44_cifar",
        num_tasks: int = 10,
        classes_per_task: int = 10,
        input_shape: tuple[int, int, int] = (32, 32, 3),
        merge: str = "alpha",
        initial_alpha: float = 0.5,
        trainable_alpha: bool = True,
        **kwargs,
    ):
        if merge not in ("alpha", "dense"):
            raise ValueError(f"merge: expected alpha or dense, got {merge!r}")
        images = keras.Input(shape=tuple(input_shape), name="images")
        task_id = keras.Input(shape=(), dtype="int32", name="task_id")
        base_net = registry.get_model_builder(base)(include_top=False, pooling="avg", input_shape=tuple(input_shape), name="base")
        base_net.trainable = False
        b = base_net(images, training=False)
        sides, logits = [], []
        for k in range(num_tasks):
            sides.append(fcn4(images, name=f"side{k}"))
            if merge == "alpha":
                r = AlphaBlend(initial_alpha, trainable_alpha, name=f"blend{k}")([b, sides[-1]])
            else:
                r = DenseBlend(name=f"blend{k}")([b, *sides])
            logits.append(layers.Dense(classes_per_task, name=f"head{k}", dtype="float32")(r))
        stacked = layers.Concatenate(axis=1, name="stack")([layers.Reshape((1, classes_per_task))(t) for t in logits])
        out = SelectTask(name="select", dtype="float32")(stacked, task_id)
        super().__init__(inputs={"images": images, "task_id": task_id}, outputs=out, **kwargs)

    @property
    def num_tasks(self) -> int:
        return self.constructor_args["num_tasks"]

    def task_variables(self, k: int) -> list:
        """The variables task k trains: its side, blend and head."""
        names = (f"side{k}_", f"blend{k}", f"head{k}")
        return [v for layer in self.layers if layer.name.startswith(names) for v in layer.weights]

    def task_model(self, k: int) -> keras.Model:
        """Task k alone: images -> its logits (shares this model's weights)."""
        return keras.Model(self.images_input, self.get_layer(f"head{k}").output, name=f"task{k}")

    @property
    def images_input(self):
        """The symbolic images input (the model's inputs are {"images", "task_id"})."""
        return self.get_layer("images").output


registry.register_variant("fcn4_side", FCN4)
registry.register_variant("side_tuning_resnet44_fcn4", SideTuneNet, base="resnet44_cifar", num_tasks=10, classes_per_task=10)
registry.register_variant("side_tuning_resnet20_fcn4", SideTuneNet, base="resnet20_cifar", num_tasks=2, classes_per_task=5)

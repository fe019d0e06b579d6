"""Building blocks for GPU benchmarks (benchmarks/gpu_issue14.py): the MSG classifier, its optimizer and one
training step on a given batch, with or without (manifold) PointMixup, on the current Keras backend (JAX on the
GPU machine; nothing here imports TensorFlow).

    model, step = build_training_step("pointnet2_msg_modelnet40", mixup="input", jit_compile=True)
    loss = step(points (16, 1024, 3) float32, labels (16,) int)   # one optimizer step, returns the loss
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from official.core.registry import create_model
from official.training.pointmixup.trainer import PointMixupTrainer
from official.vision.pointnet2 import variants  # noqa: F401  (registration)

MIXUP = ("none", "input", "manifold")


def build_training_step(model_name: str = "pointnet2_msg_modelnet40", mixup: str = "none", classes: int = 40,
                        learning_rate: float = 1e-3, jit_compile: bool = True, align: bool | None = None,
                        seed: int = 0) -> tuple[keras.Model, Callable]:
    """(compiled model, step(points, labels) -> float loss): Adam lr 1e-3 and sparse CE as the recipe;
    mixup "input" = PointMixup with alignment (main.py's rot default), "manifold" = levels 0-2 without."""
    if mixup not in MIXUP:
        raise ValueError(f"build_training_step: mixup must be one of {MIXUP}, got {mixup!r}")
    keras.utils.set_random_seed(seed)
    net = create_model(model_name, classes=classes)
    model = net
    if mixup != "none":
        model = PointMixupTrainer(net, classes, alpha=0.4 if mixup == "input" else 1.5, manifold=mixup == "manifold",
                                  align=(mixup == "input") if align is None else align, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit_compile)

    def step(points, labels) -> float:
        return float(model.train_on_batch(points, labels, return_dict=True)["loss"])

    return model, step

"""Config dataclass of the open-set task, apart from its tf.data and evaluation code (TF-free, so an
open-set model's package imports under KERAS_BACKEND=jax on a machine without TensorFlow)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class OpenSetTaskConfig(TaskConfig):
    name: str = "open_set_classification"  # registered Task class
    num_classes: int = 6  # K known classes (the length of data.classes)
    unknown_data: DataConfig = dataclasses.field(default_factory=DataConfig)  # test images of the unknown classes (their labels are ignored)
    accept_known: float = 0.95  # macro-F1: the threshold accepts this fraction of known test images (TPR 95%)

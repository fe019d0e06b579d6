"""What every task trained by the GAN method (`training.method: gan`) shares: the config-type checks, the
skipped-image counter of its reader, no Keras losses (the registered objective brings them) and a compile
step that refuses a model the GAN method did not wrap (a run without `training.method=gan`)."""

from __future__ import annotations

from typing import Any

import keras

from official.core.config import ConfigError
from official.core.task import Task
from official.data import image_decode


class AdversarialTask(Task):
    TASK_NAME = ""  # the registered task name, for messages
    TASK_CONFIG: type = object  # the config.task dataclass it needs
    DATA_CONFIG: type = object  # the train_data / eval_data dataclass it needs
    DATA_FIELDS = ""  # that dataclass's main fields, for messages
    OBJECTIVE_HINT = "training.objective"  # what to set besides training.method=gan

    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, self.TASK_CONFIG):
            raise ConfigError(f"task: {self.TASK_NAME} needs a {self.TASK_CONFIG.__name__} section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), self.DATA_CONFIG):
                raise ConfigError(f"{key}: {self.TASK_NAME} needs a {self.DATA_CONFIG.__name__} ({self.DATA_FIELDS})")
        self.counter: image_decode.SkipCounter | None = None

    def _counter(self) -> image_decode.SkipCounter:
        if self.counter is None:
            self.counter = image_decode.SkipCounter()
        return self.counter

    def skipped_examples(self) -> int:
        return self.counter.count if self.counter is not None else 0

    def build_losses(self) -> Any:
        return None  # the GAN method's registered objective computes every term

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        if not hasattr(model, "discriminator_variables"):
            raise ConfigError(f"training.method: {self.TASK_NAME} trains with `gan` (set training.method=gan and "
                              f"{self.OBJECTIVE_HINT})")
        model.compile(optimizer=optimizer, jit_compile=jit_compile)

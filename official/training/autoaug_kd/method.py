"""`training.method: autoaug_kd`: any registered classifier trained against a frozen teacher."""

from __future__ import annotations

import keras

from official.core.registry import register_training_method
from official.training.autoaug_kd.config import KDConfig
from official.training.autoaug_kd.distiller import Distiller
from official.training.method import TrainingMethod
from official.training.pretrained import load_frozen


@register_training_method("autoaug_kd")
class AutoAugmentKD(TrainingMethod):
    """Wraps the task's model (the student) with the configured teacher; augmentation is the data's."""

    config_cls = KDConfig

    def wrap(self, model: keras.Model) -> keras.Model:
        cfg: KDConfig = self.config.training
        teacher = load_frozen(cfg.teacher, cfg.teacher_checkpoint, "training.teacher")
        return Distiller(model, teacher, cfg.temperature, cfg.kd_weight, self.task.build_losses())

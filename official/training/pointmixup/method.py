"""`training.method: pointmixup`: a registered PointNet++ classifier trained with (manifold) PointMixup."""

from __future__ import annotations

import keras

from official.core.registry import register_training_method
from official.training.method import TrainingMethod
from official.training.pointmixup.config import PointMixupConfig
from official.training.pointmixup.trainer import PointMixupTrainer


@register_training_method("pointmixup")
class PointMixup(TrainingMethod):
    config_cls = PointMixupConfig

    def wrap(self, model: keras.Model) -> keras.Model:
        cfg: PointMixupConfig = self.config.training
        return PointMixupTrainer(model, self.config.task.num_classes, cfg.alpha, cfg.manifold, cfg.align,
                                 cfg.emd_iterations, seed=self.config.runtime.seed,
                                 assignment=cfg.assignment)

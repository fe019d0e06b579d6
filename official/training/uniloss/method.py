"""`training.method: uniloss`: any registered model trained with the UniLoss surrogate of its metric."""

from __future__ import annotations

import keras

from official.core.registry import register_training_method
from official.training.method import TrainingMethod
from official.training.uniloss.config import UniLossConfig
from official.training.uniloss.model import UniLossModel


@register_training_method("uniloss")
class UniLoss(TrainingMethod):
    """Wraps the task's model; the data, the metrics and the served network are the task's own."""

    config_cls = UniLossConfig

    def wrap(self, model: keras.Model) -> keras.Model:
        cfg: UniLossConfig = self.config.training
        return UniLossModel(model, cfg.metric, cfg.num_single, cfg.score_activation, cfg.gradient,
                            cfg.anchor_seed + self.config.runtime.seed, cfg.pckh_head_size, cfg.pckh_max_positives)

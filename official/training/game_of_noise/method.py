"""`training.method: game_of_noise`: GNT / speckle / ANT around any registered classifier."""

from __future__ import annotations

import keras

from official.core.registry import register_training_method
from official.training.game_of_noise.ant import AdversarialNoiseTrainer
from official.training.game_of_noise.config import NoiseConfig
from official.training.game_of_noise.trainers import NoiseTrainer
from official.training.method import TrainingMethod


@register_training_method("game_of_noise")
class GameOfNoise(TrainingMethod):
    config_cls = NoiseConfig

    def steps_per_epoch(self) -> int:
        t = self.config.trainer
        if t.steps_per_epoch > 0:
            return t.steps_per_epoch
        n = self.task.num_examples(self.config.train_data) or 0
        return max(n // max(t.global_batch_size, 1), 1)

    def wrap(self, model: keras.Model) -> keras.Model:
        cfg: NoiseConfig = self.config.training
        data = self.config.train_data
        seed = self.config.runtime.seed
        if cfg.mode != "ant":
            return NoiseTrainer(model, cfg.mode, cfg.sigma, cfg.p_clean, data.mean, data.std, seed)
        return AdversarialNoiseTrainer(
            model, cfg.generator, cfg.epsilon, cfg.generator_lr, cfg.p_clean, cfg.adversarial_fraction,
            cfg.replay_slots, cfg.snapshot_every or self.steps_per_epoch(), data.mean, data.std, seed,
            ce_fn=self.task.build_losses(),
        )

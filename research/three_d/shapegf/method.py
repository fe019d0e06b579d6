"""`training.method: shapegf_ae` and `shapegf_gan`: ShapeGF's two training stages as trainer wrappers.

- shapegf_ae (trainers/ae_trainer_3D.py update): encoder and score net end to end; per shape one sigma drawn
  uniformly from the model's levels, x~ = x + sigma eps, loss = 0.5 mean sum (-(x~ - x) - s(x~, [z, sigma]))^2
  / sigma (score_matching.py); one optimizer over both (the official's two Adams share every setting).
- shapegf_gan (trainers/lgan_trainer_3D.py with gan_only): the encoder and score net restored from
  `training.ae_checkpoint` and frozen (encoder in inference mode); per iteration a generator step
  (-mean D(G(n))) every n_critics iterations, then a critic step (mean D(G(n')) - mean D(E(x)) + gp_weight *
  (mean_i ||grad_x D(E(x_i))||)^2, the zero-centred penalty on real codes). The trainer's optimizer steps
  the generator; the critic and its Adam are the method's own, checkpointed beside the network.
The steps are for the TensorFlow backend (tools.train); the networks' forward passes stay backend-agnostic.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops
from keras.src.losses import loss as loss_module  # Keras' distribution scaling of losses

from official.core.config import ConfigError
from official.core.registry import register_training_method
from official.training import pretrained
from official.training.method import TrainingMethod
from research.three_d.shapegf import score_matching as sm
from research.three_d.shapegf.config import ShapeGFAETrainingConfig, ShapeGFGanTrainingConfig
from research.three_d.shapegf.layers import LatentMLP
from research.three_d.shapegf.model import ShapeGF


class ShapeGFAETrainer(keras.Model):
    """Encoder + score net under denoising score matching; `inference_model` is the network."""

    def __init__(self, network: ShapeGF, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def inference_model(self) -> ShapeGF:
        return self.network

    def call(self, inputs, training=False):
        return self.network.encoder(inputs["points"], training=training)

    def batch_loss(self, points, training=True):
        """The official update's loss for a batch of clouds (B, N, 3)."""
        z = self.network.encoder(points, training=training)
        sigma = sm.sample_sigma(self.network.sigmas, ops.shape(points)[0], self.seed_generator)
        noise = keras.random.normal(ops.shape(points), seed=self.seed_generator)
        loss, _ = sm.score_matching_loss(self.network.score_net, z, points, sigma, noise, training=training)
        return loss

    def train_step(self, data):
        points = data[0]["points"]
        variables = self.network.trainable_variables
        with tf.GradientTape() as tape:
            loss = self.batch_loss(points)
            if self.network.losses:  # the trainer's L2 weight decay (0 in the official configs)
                loss = loss + ops.sum(ops.stack(self.network.losses))
            scaled = self.optimizer.scale_loss(loss_module.scale_loss_for_distribution(loss))
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]


def gradient_penalty(critic, codes, weight: float):
    """Zero-centred penalty: weight * (mean_i ||d D(x_i) / d x_i||)^2 at the real codes; returns (gp, D(codes))."""
    with tf.GradientTape() as tape:
        tape.watch(codes)
        d_real = critic(codes, training=True)
        total = ops.sum(d_real)  # d sum_i D(x_i) / d x_i = d D(x_i) / d x_i (inside the tape)
    grad = tape.gradient(total, codes)
    norm = ops.sqrt(ops.sum(ops.square(ops.reshape(grad, (ops.shape(grad)[0], -1))), axis=1))
    return weight * ops.square(ops.mean(norm)), d_real


class ShapeGFGanTrainer(keras.Model):
    """Latent WGAN on frozen auto-encoder codes; `inference_model` is the network (with its generator)."""

    def __init__(self, network: ShapeGF, cfg: ShapeGFGanTrainingConfig, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if not network.constructor_args["generator_dims"]:
            raise ConfigError("model: shapegf_gan needs a network with a generator (generator_dims, e.g. shapegf_gen)")
        self.network = network
        self.cfg = cfg
        network.encoder.trainable = False
        network.score_net.trainable = False
        zdim = int(network.constructor_args["zdim"])
        self.zdim = zdim
        self.critic = LatentMLP(zdim, tuple(cfg.dis_dims), 1, negative_slope=0.2, name="discriminator")
        self.critic_optimizer = keras.optimizers.Adam(cfg.dis_lr, beta_1=cfg.dis_beta_1, beta_2=cfg.dis_beta_2,
                                                      epsilon=1e-8)
        self.critic_optimizer.build(self.critic.trainable_variables)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {k: keras.metrics.Mean(name=k) for k in ("loss", "gen_loss", "dis_loss", "gp", "d_real", "d_fake")}

    @property
    def inference_model(self) -> ShapeGF:
        return self.network

    def checkpoint_extras(self) -> dict:
        return {"discriminator": self.critic, "critic_optimizer": self.critic_optimizer}

    def call(self, inputs, training=False):
        return self.network.encoder(inputs["points"], training=False)

    def _prior(self, batch):
        return keras.random.normal((batch, self.zdim), seed=self.seed_generator) * self.cfg.prior_scale

    def generator_step(self, batch):
        variables = self.network.generator.trainable_variables
        with tf.GradientTape() as tape:
            loss = -ops.mean(self.critic(self.network.generator(self._prior(batch), training=True), training=True))
            scaled = self.optimizer.scale_loss(loss_module.scale_loss_for_distribution(loss))
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
        return loss

    def critic_step(self, codes):
        variables = self.critic.trainable_variables
        fake = self.network.generator(self._prior(ops.shape(codes)[0]), training=True)
        with tf.GradientTape() as tape:
            gp, d_real = gradient_penalty(self.critic, codes, self.cfg.gp_weight)
            d_fake = self.critic(fake, training=True)
            loss = ops.mean(d_fake) - ops.mean(d_real) + gp
            scaled = loss_module.scale_loss_for_distribution(loss)
        self.critic_optimizer.apply(tape.gradient(scaled, variables), variables)
        return loss, gp, ops.mean(d_real), ops.mean(d_fake)

    def train_step(self, data):
        points = data[0]["points"]
        codes = tf.stop_gradient(self.network.encoder(points, training=False))
        batch = ops.shape(points)[0]
        if self.cfg.n_critics == 1:
            gen_loss = self.generator_step(batch)
        else:  # official: the generator steps when total_gan_iters % n_critics == 0 (counted from 1)
            gen_loss = tf.cond((self.critic_optimizer.iterations + 1) % self.cfg.n_critics == 0,
                               lambda: self.generator_step(batch), lambda: tf.constant(0.0))
        dis_loss, gp, d_real, d_fake = self.critic_step(codes)
        for key, value in (("loss", dis_loss), ("gen_loss", gen_loss), ("dis_loss", dis_loss), ("gp", gp),
                           ("d_real", d_real), ("d_fake", d_fake)):
            self.trackers[key].update_state(value)
        return {k: t.result() for k, t in self.trackers.items()}

    @property
    def metrics(self):
        return list(self.trackers.values())


@register_training_method("shapegf_ae")
class ShapeGFAutoEncoding(TrainingMethod):
    config_cls = ShapeGFAETrainingConfig

    def wrap(self, model: keras.Model) -> keras.Model:
        return ShapeGFAETrainer(model, seed=self.config.runtime.seed)


@register_training_method("shapegf_gan")
class ShapeGFGan(TrainingMethod):
    config_cls = ShapeGFGanTrainingConfig

    def wrap(self, model: keras.Model) -> keras.Model:
        return ShapeGFGanTrainer(model, self.config.training, seed=self.config.runtime.seed)

    def prepare(self, model: keras.Model, resumed: int) -> None:
        """A fresh run loads the auto-encoder (all its variables matched) into the frozen encoder + score net."""
        if resumed:
            return  # the run's own checkpoint already holds them
        network = model.inference_model
        load_autoencoder(network, self.config.training.ae_checkpoint)


def load_autoencoder(network: ShapeGF, checkpoint: str) -> str:
    """Restores an auto-encoder checkpoint (its encoder and score net) into `network`; returns the file used."""
    args = {k: v for k, v in network.constructor_args.items() if k != "generator_dims"}
    autoencoder = ShapeGF(**args)
    used = pretrained.restore_weights(autoencoder, checkpoint, "training.ae_checkpoint")
    network.encoder.set_weights(autoencoder.encoder.get_weights())
    network.score_net.set_weights(autoencoder.score_net.get_weights())
    print(f"shapegf_gan: encoder and score net from {used} (frozen)")
    return used

"""The `topogan` objective on the shared GAN step (official/training/gan): WGAN-GP with the DCGAN critic,
plus the matching-based topological loss on every generator step.

Generator terms: adversarial = -mean D(G(z)); topology = weight x topological_loss(G(z), targets), where the
targets (critical pixel indices, matched reference values) come from the host routine
`official.losses.topology.topology_targets` through `tf.numpy_function`, with the real batch's diagrams (read
with the images) as the reference set - the official code draws a random subset of the training diagrams;
a shuffled batch is such a subset. Critic terms: wasserstein = mean D(fake) - mean D(real) and
gradient_penalty = 10 x mean (||grad D(x_hat)||_2 - 1)^2 at per-sample random interpolations.
`training.generator_every` = 5 gives the official n_critic. With `topology_weight = 0` it is the same GAN
without the topological loss (the baseline of the card's comparison).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from keras import ops

from official.losses.topology import topological_loss, topology_targets
from official.training.gan.method import register_objective
from official.training.gan.trainer import AdversarialTrainer
from research.generative.topogan.model import DCGANCritic

_TARGET_KEYS = ("birth_index", "death_index", "target_birth", "target_death", "mask")


def gradient_penalty(critic, real, fake, alpha):
    """mean over the batch of (||grad_x D(x_hat)||_2 - 1)^2, x_hat = alpha real + (1 - alpha) fake (WGAN-GP)."""
    mixed = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        scores = critic(mixed, training=True)
    grads = tape.gradient(scores, mixed)
    norms = ops.sqrt(ops.sum(ops.square(grads), axis=(1, 2, 3)) + 1e-12)
    return ops.mean((norms - 1.0) ** 2)


def host_targets(images, diagrams, counts, dimension: int, max_points: int):
    """numpy side of the loss: references are the batch's diagrams cut to their counts."""
    references = [d[: int(c)] for d, c in zip(np.asarray(diagrams), np.asarray(counts), strict=False)]
    out = topology_targets(np.asarray(images), references, dimension, max_points)
    return tuple(out[k] for k in _TARGET_KEYS)


@register_objective("topogan")
class TopoGANObjective(AdversarialTrainer):
    GENERATOR_TERMS = ("adversarial", "topology")
    DISCRIMINATOR_TERMS = ("wasserstein", "gradient_penalty")

    def __init__(self, network, config, trainer_config, schedule_args, image_shape, seed: int = 0,
                 topology_weight: float = 0.0005, d_filters: int = 64, gp_weight: float = 10.0, dimension: int = 1,
                 max_points: int = 64, **kwargs):
        self.topology_weight, self.d_filters, self.gp_weight = float(topology_weight), int(d_filters), float(gp_weight)
        self.dimension, self.max_points = int(dimension), int(max_points)
        image_shape = tuple(network.output_shape[1:])
        super().__init__(network, config, trainer_config, schedule_args, image_shape, seed, **kwargs)

    def build_networks(self) -> None:
        size, channels = int(self.network.output_shape[1]), int(self.network.output_shape[-1])
        self.discriminators["critic"] = DCGANCritic(self.d_filters, channels, size, name="critic")

    def call(self, inputs, training=False):
        return self.network(inputs["z"] if isinstance(inputs, dict) else inputs, training=training)

    def topology_targets(self, fake, batch) -> dict:
        outs = tf.numpy_function(
            lambda x, d, c: host_targets(x, d, c, self.dimension, self.max_points),
            [tf.stop_gradient(fake), batch["diagram"], batch["diagram_count"]],
            [tf.int32, tf.int32, tf.float32, tf.float32, tf.float32], stateful=False)
        batch_size = tf.shape(fake)[0]
        return {k: tf.reshape(v, [batch_size, self.max_points]) for k, v in zip(_TARGET_KEYS, outs, strict=False)}

    def generator_losses(self, batch, training):
        fake = self.network(batch["z"], training=training)
        terms = {"adversarial": -ops.mean(self.discriminators["critic"](fake, training=training))}
        if self.topology_weight > 0:
            def topology():
                return self.topology_weight * topological_loss(fake, self.topology_targets(fake, batch))

            every = int(self.gan_config.generator_every)
            if training and every > 1:  # the host persistence runs only on the steps that update the generator
                terms["topology"] = tf.cond(tf.equal(self.d_optimizer.iterations % every, 0), topology,
                                            lambda: tf.zeros((), fake.dtype))
            else:
                terms["topology"] = topology()
        else:
            terms["topology"] = ops.zeros(())
        return terms, {"image": fake}

    def discriminator_losses(self, batch, fakes, step):
        critic, real, fake = self.discriminators["critic"], batch["image"], fakes["image"]
        wasserstein = ops.mean(critic(fake, training=True)) - ops.mean(critic(real, training=True))
        alpha = tf.random.stateless_uniform([tf.shape(real)[0], 1, 1, 1], tf.stack([tf.cast(step, tf.int32), self.seed]))
        return {"wasserstein": wasserstein, "gradient_penalty": self.gp_weight * gradient_penalty(critic, real, fake, alpha)}

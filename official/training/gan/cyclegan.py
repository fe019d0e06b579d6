"""The CycleGAN objective (`training.objective: cyclegan`; Zhu et al. 2017, the official PyTorch code's
`cycle_gan_model.py`), which Sketch2Photo's first stage and ForkGAN extend.

G_A = the task's network (A -> B, exported), G_B = a second generator (B -> A, same config unless
`reverse_model` names another registered variant); D_A judges domain B images (real B vs G_A(a)) and
D_B domain A images, both PatchGAN (official/vision/gan/patch_discriminator.py).
Generator terms: adversarial (the configured GAN loss) for G_A and G_B, cycle L1 * lambda_A / lambda_B
(10), identity L1 * lambda_identity * lambda_B / lambda_A (0.5; off when 0). Discriminator terms:
the GAN loss of D_A on (b, history(G_A(a))) and of D_B on (a, history(G_B(b))); LSGAN includes CycleGAN's
factor 0.5.
"""

from __future__ import annotations

import keras
from keras import ops

from official.core import registry
from official.losses import gan as gan_losses
from official.training.gan.method import register_objective
from official.training.gan.trainer import AdversarialTrainer
from official.vision.gan.patch_discriminator import PatchDiscriminator


def l1(a, b):
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))


@register_objective("cyclegan")
class CycleGANObjective(AdversarialTrainer):
    GENERATOR_TERMS = ("adversarial_a", "adversarial_b", "cycle_a", "cycle_b", "identity_a", "identity_b")
    DISCRIMINATOR_TERMS = ("a", "b")

    def __init__(self, network, config, trainer_config, schedule_args, image_shape, seed: int = 0,
                 lambda_a: float = 10.0, lambda_b: float = 10.0, lambda_identity: float = 0.5,
                 d_filters: int = 64, d_layers: int = 3, reverse_model: str = "", **kwargs):
        self.lambda_a, self.lambda_b, self.lambda_identity = float(lambda_a), float(lambda_b), float(lambda_identity)
        self.d_filters, self.d_layers, self.reverse_model = int(d_filters), int(d_layers), reverse_model
        self.d_loss, self.g_loss = gan_losses.adversarial_losses(config.gan_loss)
        super().__init__(network, config, trainer_config, schedule_args, image_shape, seed, **kwargs)

    def build_networks(self) -> None:
        size = tuple(self.network.input_shape[1:3])
        in_channels, out_channels = self.network.input_shape[-1], self.network.output_shape[-1]
        if self.reverse_model:
            reverse = registry.create_model(self.reverse_model)
        else:
            reverse = keras.models.clone_model(self.network)  # same config, fresh weights
        reverse.name = "generator_b"
        self.generators["b"] = reverse
        self.discriminators["a"] = PatchDiscriminator(out_channels, self.d_filters, self.d_layers, size, name="discriminator_a")
        self.discriminators["b"] = PatchDiscriminator(in_channels, self.d_filters, self.d_layers, size, name="discriminator_b")
        self.add_history("fake_b")
        self.add_history("fake_a")

    def input_a(self, batch, training):
        """What G_A translates; the cycle and identity targets stay batch["a"] (Sketch2Photo corrupts it here)."""
        return batch["a"]

    def generator_losses(self, batch, training):
        g_a, g_b = self.network, self.generators["b"]
        d_a, d_b = self.discriminators["a"], self.discriminators["b"]
        a, b = batch["a"], batch["b"]
        fake_b = g_a(self.input_a(batch, training), training=training)
        fake_a = g_b(b, training=training)
        terms = {
            "adversarial_a": self.g_loss(d_a(fake_b, training=training)),
            "adversarial_b": self.g_loss(d_b(fake_a, training=training)),
            "cycle_a": self.lambda_a * l1(g_b(fake_b, training=training), a),
            "cycle_b": self.lambda_b * l1(g_a(fake_a, training=training), b),
        }
        if self.lambda_identity > 0:
            terms["identity_a"] = self.lambda_identity * self.lambda_b * l1(g_a(b, training=training), b)
            terms["identity_b"] = self.lambda_identity * self.lambda_a * l1(g_b(a, training=training), a)
        else:
            terms["identity_a"] = terms["identity_b"] = ops.zeros((), "float32")
        return terms, {"fake_b": fake_b, "fake_a": fake_a}

    def discriminator_losses(self, batch, fakes, step):
        d_a, d_b = self.discriminators["a"], self.discriminators["b"]
        fake_b = self.from_history("fake_b", fakes["fake_b"], step)
        fake_a = self.from_history("fake_a", fakes["fake_a"], step)
        return {"a": self.d_loss(d_a(batch["b"], training=True), d_a(fake_b, training=True)),
                "b": self.d_loss(d_b(batch["a"], training=True), d_b(fake_a, training=True))}

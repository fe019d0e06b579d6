"""Sketch2Photo's two training objectives on the shared GAN step (official/training/gan).

`sketch2photo` (stage 1, shape translation): the `cyclegan` objective with G_A = the attention generator
and G_B the same network without the gate (1 -> 1 channel); G_A translates the corrupted sketch
(noise.py; draws from the task's batch["draws"]) while the cycle and identity terms compare with the
CLEAN sketch batch["a"]. LSGAN, cycle 10/10, identity 0.5, history of 50 as CycleGAN.

`sketch2photo_colorize` (stage 2, content enrichment): the colouriser (model.Colorizer) against a 3-ch
PatchGAN. With probability p_reference (0.2) the relu3_4 map t of the gray input is replaced by
AdaIN(t, VGG(reference)) before decoding; terms: adversarial, luminance L1 x 10, and, on the examples
that used a reference, content MSE x 1 x 0.05 and style (means + stds at relu1_1, 2_1, 3_1, 3_4) x 2 x 0.05.
"""

from __future__ import annotations

from keras import ops

from official.layers.adaptive_norm import adain
from official.losses import gan as gan_losses
from official.training.gan.cyclegan import CycleGANObjective
from official.training.gan.method import register_objective
from official.training.gan.trainer import AdversarialTrainer
from official.vision.gan.patch_discriminator import PatchDiscriminator
from research.generative.sketch2photo import losses, noise
from research.generative.sketch2photo.model import Sketch2PhotoGenerator


def offsets_from_draws(draws, side: int, patch: int):
    """Uniform [0, 1) draws -> integer window offsets in [0, side - patch]."""
    return ops.minimum(ops.cast(ops.floor(draws * (side - patch + 1)), "int32"), side - patch)


@register_objective("sketch2photo")
class Sketch2PhotoObjective(CycleGANObjective):
    def __init__(self, network, config, trainer_config, schedule_args, image_shape, seed: int = 0,
                 p_noise: float = 0.2, p_patch: float = 0.3, noise_patch: int = 0, **kwargs):
        self.p_noise, self.p_patch = float(p_noise), float(p_patch)
        side = int(network.input_shape[1])
        self.noise_patch = int(noise_patch) or noise.patch_size(side)
        image_shape = (*tuple(image_shape)[:2], int(network.output_shape[-1]))  # histories of 1-ch fakes
        super().__init__(network, config, trainer_config, schedule_args, image_shape, seed, **kwargs)

    def build_networks(self) -> None:
        size = tuple(self.network.input_shape[1:3])
        in_channels, out_channels = self.network.input_shape[-1], self.network.output_shape[-1]
        cfg = dict(self.network.get_config())
        cfg.update(input_channels=out_channels, output_channels=in_channels, attention="", name="generator_b")
        cfg.pop("trainable", None)
        self.generators["b"] = Sketch2PhotoGenerator(**cfg) if isinstance(self.network, Sketch2PhotoGenerator) \
            else type(self.network).from_config(cfg)
        self.discriminators["a"] = PatchDiscriminator(out_channels, self.d_filters, self.d_layers, size, name="discriminator_a")
        self.discriminators["b"] = PatchDiscriminator(in_channels, self.d_filters, self.d_layers, size, name="discriminator_b")
        self.add_history("fake_b")
        self.add_history("fake_a")

    def input_a(self, batch, training):
        """The corrupted sketch when the batch carries the draws (training), else the clean one."""
        if not training or "draws" not in batch:
            return batch["a"]
        a, draws = batch["a"], ops.cast(batch["draws"], "float32")
        offsets = ops.stack([offsets_from_draws(draws[:, 1], int(a.shape[1]), self.noise_patch),
                             offsets_from_draws(draws[:, 2], int(a.shape[2]), self.noise_patch)], axis=1)
        return noise.compose(a, batch["noise"], batch["other"], draws[:, 0], offsets, self.p_noise, self.p_patch,
                             self.noise_patch)


@register_objective("sketch2photo_colorize")
class ColorizeObjective(AdversarialTrainer):
    GENERATOR_TERMS = ("adversarial", "luminance", "content", "style")
    DISCRIMINATOR_TERMS = ("d",)

    def __init__(self, network, config, trainer_config, schedule_args, image_shape, seed: int = 0,
                 p_reference: float = 0.2, lambda_luminance: float = 10.0, lambda_content: float = 0.05,
                 lambda_style: float = 0.1, d_filters: int = 64, d_layers: int = 3, **kwargs):
        self.p_reference = float(p_reference)
        self.lambda_luminance, self.lambda_content, self.lambda_style = (float(lambda_luminance), float(lambda_content),
                                                                         float(lambda_style))
        self.d_filters, self.d_layers = int(d_filters), int(d_layers)
        self.d_loss, self.g_loss = gan_losses.adversarial_losses(config.gan_loss)
        super().__init__(network, config, trainer_config, schedule_args, image_shape, seed, **kwargs)

    def build_networks(self) -> None:
        size = tuple(self.network.input_shape[1:3])
        self.discriminators["d"] = PatchDiscriminator(3, self.d_filters, self.d_layers, size, name="discriminator")
        self.add_history("fake")

    def generator_losses(self, batch, training):
        encoder, decoder = self.network.encoder, self.network.decoder
        gray = batch["a"]
        t = encoder(gray, training=False)[-1]
        if "reference" in batch and self.p_reference > 0:
            use = ops.cast(ops.cast(batch["draws"], "float32")[:, 0] < self.p_reference, "float32")
            ref_features = encoder(batch["reference"], training=False)
            t = ops.where(use[:, None, None, None] > 0, adain(t, ref_features[-1]), t)
        else:
            use, ref_features = None, None
        fake = decoder(t, training=training)
        terms = {"adversarial": self.g_loss(self.discriminators["d"](fake, training=training)),
                 "luminance": self.lambda_luminance * losses.luminance_l1(fake, gray)}
        zero = ops.zeros((), "float32")
        terms["content"] = terms["style"] = zero
        if use is not None:
            out_features = encoder(fake, training=False)
            share = ops.maximum(ops.sum(use), 1.0)
            content = ops.mean(ops.square(out_features[-1] - t), axis=(1, 2, 3))
            terms["content"] = self.lambda_content * ops.sum(content * use) / share
            style = ops.stack([losses.style_loss([f[i:i + 1] for f in out_features], [f[i:i + 1] for f in ref_features])
                               for i in range(int(gray.shape[0]))])
            terms["style"] = self.lambda_style * ops.sum(style * use) / share
        return terms, {"fake": fake}

    def discriminator_losses(self, batch, fakes, step):
        fake = self.from_history("fake", fakes["fake"], step)
        d = self.discriminators["d"]
        return {"d": self.d_loss(d(batch["b"], training=True), d(fake, training=True))}

"""The `tsit` GAN objective (training.objective: tsit) on the shared adversarial step (official/training/gan).

Batches are {"a": content image (AST/MMIS) or label map (SIS), "b": style image (AST/MMIS) or the real photo
(SIS)}. Official pix2pix_model.py / TSIT options:
- generator: hinge G loss (mean over the num_d discriminators), feature matching over every intermediate
  layer x lambda_feat / num_d (official/losses/gan.py), VGG-19 perceptual L1 (weights 1/32..1) x lambda_vgg
  with target = the CONTENT image in AST/MMIS and the real image in SIS, KLD x lambda_kld (SIS with VAE);
- discriminator: hinge on (real b, fake); in SIS it sees concat(label map, image);
- bottleneck noise N(0, 1) is drawn per step (AST/MMIS); SIS with VAE encodes b: z = mu + eps * exp(logvar / 2).
The encoder's variables train with the generator (SPADE puts them in G's parameter list).
"""

from __future__ import annotations

import keras
from keras import ops

from official.core.config import ConfigError
from official.losses import gan as gan_losses
from official.training.gan.method import register_objective
from official.training.gan.trainer import AdversarialTrainer
from official.vision.gan import vgg_features
from research.generative.tsit.model import TSITDiscriminator, TSITImageEncoder


def noise_shape(network, batch_size):
    sh, sw = network.bottleneck
    return (batch_size, sh, sw, 3)


def generator_inputs(network, a, b, noise=None, z=None) -> dict:
    """The generator's input dict from a batch (noise / z must be given where the mode needs them)."""
    cfg = network.get_config()
    inputs = {"content": a}
    if cfg["mode"] == "ast":
        inputs["style"], inputs["noise"] = b, noise
    elif cfg["use_vae"]:
        inputs["z"] = z
    return inputs


@register_objective("tsit")
class TSITObjective(AdversarialTrainer):
    GENERATOR_TERMS = ("adversarial", "feature_matching", "vgg", "kld")
    DISCRIMINATOR_TERMS = ("adversarial",)

    def __init__(self, network, config, trainer_config, schedule_args, image_shape, seed: int = 0,
                 lambda_feat: float = 10.0, lambda_vgg: float = 10.0, lambda_kld: float = 0.05, d_filters: int = 64,
                 d_layers: int = 3, num_d: int = 2, encoder_filters: int = 64, encoder_size: int = 256, vgg_weights: str = "",
                 vgg_preprocessing: str = "torch", **kwargs):
        if config.gan_loss != "hinge":
            raise ConfigError(f"training.gan_loss: TSIT trains with 'hinge', got {config.gan_loss!r}")
        if lambda_vgg > 0 and not vgg_weights:
            raise ConfigError("training.objective_args.vgg_weights: lambda_vgg > 0 needs a VGG-19 weights file "
                              "(ImageNet weights are a download) or 'random' for a randomly initialised VGG")
        self.lambda_feat, self.lambda_vgg, self.lambda_kld = float(lambda_feat), float(lambda_vgg), float(lambda_kld)
        self.d_filters, self.d_layers, self.num_d, self.encoder_filters = int(d_filters), int(d_layers), int(num_d), int(encoder_filters)
        self.encoder_size = int(encoder_size)  # the encoder resizes its input to this square (SPADE: 256)
        self.vgg_weights, self.vgg_preprocessing = vgg_weights, vgg_preprocessing
        self.d_loss, self.g_loss = gan_losses.adversarial_losses("hinge")
        self.noise_seed = keras.random.SeedGenerator(seed, name="tsit_noise")
        super().__init__(network, config, trainer_config, schedule_args, image_shape, seed, **kwargs)

    def build_networks(self) -> None:
        cfg = self.network.get_config()
        self.mode, self.use_vae = cfg["mode"], cfg["mode"] == "sis" and cfg["use_vae"]
        size = tuple(int(s) for s in cfg["image_size"])
        d_in = 3 + (cfg["semantic_nc"] if self.mode == "sis" else 0)
        self.discriminators["d"] = TSITDiscriminator(d_in, self.d_filters, self.d_layers, self.num_d, size,
                                                     name="discriminator")
        if self.use_vae:
            self.generators["encoder"] = TSITImageEncoder(self.encoder_filters, cfg["z_dim"], size,
                                                          encoder_size=self.encoder_size,
                                                          name="encoder")
        self.vgg = None
        if self.lambda_vgg > 0:
            weights = None if self.vgg_weights == "random" else self.vgg_weights
            self.vgg = vgg_features.vgg19_features(weights=weights, preprocessing=self.vgg_preprocessing,
                                                   image_size=size)

    # --- pieces ---------------------------------------------------------------------------------
    def _discriminate(self, a, image, training):
        x = ops.concatenate([ops.cast(a, image.dtype), image], axis=-1) if self.mode == "sis" else image
        d = self.discriminators["d"]
        return d.split(d(x, training=training))

    def _generate(self, batch, training):
        a, b = ops.convert_to_tensor(batch["a"]), ops.convert_to_tensor(batch["b"])
        noise = z = mu = logvar = None
        if self.mode == "ast":
            noise = keras.random.normal(noise_shape(self.network, ops.shape(a)[0]), seed=self.noise_seed)
        elif self.use_vae:
            mu, logvar = self.generators["encoder"](b, training=training)
            eps = keras.random.normal(ops.shape(mu), seed=self.noise_seed)
            z = mu + eps * ops.exp(0.5 * logvar)
        fake = self.network(generator_inputs(self.network, a, b, noise, z), training=training)
        return fake, mu, logvar

    def generator_losses(self, batch, training):
        fake, mu, logvar = self._generate(batch, training)
        fake_out = self._discriminate(batch["a"], fake, training)
        real_out = self._discriminate(batch["a"], batch["b"], training)
        zero = ops.zeros((), "float32")
        terms = {"adversarial": self.g_loss([d[-1] for d in fake_out]),
                 "feature_matching": self.lambda_feat * gan_losses.feature_matching_loss(
                     [d[:-1] for d in fake_out], [d[:-1] for d in real_out]) if self.lambda_feat > 0 else zero,
                 "vgg": zero, "kld": zero}
        if self.vgg is not None:
            target = batch["a"] if self.mode == "ast" else batch["b"]  # AST/MMIS: the content image
            terms["vgg"] = self.lambda_vgg * gan_losses.perceptual_loss(self.vgg(fake), self.vgg(target),
                                                                         vgg_features.SPADE_WEIGHTS)
        if mu is not None:
            terms["kld"] = self.lambda_kld * gan_losses.kl_divergence(mu, logvar)
        return terms, {"fake": fake}

    def discriminator_losses(self, batch, fakes, step):
        fake = self.from_history("fake", fakes["fake"], step)
        real_out = self._discriminate(batch["a"], batch["b"], True)
        fake_out = self._discriminate(batch["a"], fake, True)
        return {"adversarial": self.d_loss([d[-1] for d in real_out], [d[-1] for d in fake_out])}

    def call(self, inputs, training=False):
        """The exported network on a batch (zero noise / z) — builds the wrapper for Keras."""
        a, b = inputs["a"], inputs["b"]
        batch = ops.shape(a)[0]
        noise = ops.zeros(noise_shape(self.network, batch)) if self.mode == "ast" else None
        z = ops.zeros((batch, self.network.get_config()["z_dim"])) if self.use_vae else None
        return self.network(generator_inputs(self.network, a, b, noise, z), training=training)

    def sample_batch(self, batch):
        """(content images, network_fn) for the sample grids: G(content, style) with fixed noise (seed 0)."""
        from research.generative.tsit.inference import fixed_translator

        return fixed_translator(batch, lambda: self.inference_model)

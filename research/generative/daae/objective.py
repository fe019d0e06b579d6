"""DAAE's training objective on the shared GAN step (official/training/gan): the introspective game of
IntroVAE (hhb072/IntroVAE main.py) with DAAE's factorised latent and age prior.

The exported network holds both players: its decoder is the generator (the trainer's optimizer) and its
encoder, plus an identity-classification head on mu_identity, is the critic (the "discriminator" optimizer).
Per step, with z ~ q(z | x) (reparameterised), x_r = G(z) and x_p = G(z_p) for a prior draw z_p whose age code
is the batch's ages rolled by one (so sampled ages follow the data's age distribution):
- generator step: w_rec * L_rec(x_r, x) + w_kl * 0.5 * (mean KL(E(x_r)) + mean KL(E(x_p))), the encoder not updated
  (IntroVAE's decoder gets w_rec * L_rec too: its gradient of the encoder step is not cleared);
- encoder step, on the generator step's x_r and x_p without gradient: w_rec * L_rec (through the decoder, which
  is not updated) + w_kl * (mean KL(E(x)) + 0.5 w_neg (relu(m_f - mean KL_f(E(x_r))) + relu(m_f - mean KL_f(E(x_p)))))
  + w_id * cross-entropy of the identity head (examples with identity -1 are left out).
KLs are per factor (identity, age against N(age / age_unit, I), extra); the margin m is split over the factors
in proportion to their dimensions (our reading of "disentangled adversarial learning").
BatchNorm moving statistics are those of real data only: the encoder's passes over x_r / x_p and the decoder's
pass over prior draws use batch statistics but restore the moving ones afterwards (IntroVAE never leaves
train mode; the exported network runs in inference mode, and its statistics should be the real faces'.
The effect on our small run was not measured). The age consistency of
generated faces is the age factor of KL(E(x_p)) against the sampled age. IntroVAE updates the encoder first;
the shared step runs the generator first (reconstructed order, recorded in the card).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from official.losses import introspective as intro
from official.training.gan.method import register_objective
from official.training.gan.trainer import AdversarialTrainer
from research.generative.daae.losses import FACTORS, age_code, factor_kls


@register_objective("daae")
class DAAEObjective(AdversarialTrainer):
    GENERATOR_TERMS = ("reconstruction", "kl_reconstruction", "kl_sample")
    DISCRIMINATOR_TERMS = ("reconstruction", "kl_identity", "kl_age", "kl_extra", "margin", "identity")

    def __init__(self, network, config, trainer_config, schedule_args, image_shape, seed: int = 0,
                 weight_rec: float = 0.05, weight_kl: float = 1.0, weight_neg: float = 0.5, margin: float = 120.0,
                 weight_identity: float = 1.0, identities: int = 0, **kwargs):
        self.weight_rec, self.weight_kl, self.weight_neg = float(weight_rec), float(weight_kl), float(weight_neg)
        self.weight_identity, self.identities = float(weight_identity), int(identities)
        network_args = network.get_config()
        dims = [int(network_args[f"{f}_dim"]) for f in FACTORS]
        self.margins = [float(margin) * d / sum(dims) for d in dims]
        self.age_unit = float(network.age_unit)
        super().__init__(network, config, trainer_config, schedule_args, image_shape, seed, **kwargs)
        self.noise = keras.random.SeedGenerator(self.seed + 101, name="latent_noise")

    def build_networks(self) -> None:
        if self.identities > 0:
            head = keras.Sequential([keras.layers.Dense(self.identities, name="logits")], name="identity_head")
            head.build((None, int(self.network.get_config()["identity_dim"])))
            self.discriminators["identity"] = head

    @property
    def generator_variables(self) -> list:
        return list(self.network.decoder.trainable_variables)

    @property
    def discriminator_variables(self) -> list:
        heads = [v for net in self.discriminators.values() for v in net.trainable_variables]
        return list(self.network.encoder.trainable_variables) + heads

    # ---- pieces --------------------------------------------------------------------------------
    @staticmethod
    def _keeping_statistics(net: keras.Model, fn):
        """fn() with `net`'s BatchNorm moving statistics restored afterwards (batch statistics still used)."""
        stats = [v for v in net.non_trainable_variables if "moving_" in v.path]
        saved = [ops.copy(v.value) for v in stats]
        out = fn()
        with tf.control_dependencies(tf.nest.flatten(out)):
            for v, value in zip(stats, saved, strict=True):
                v.assign(value)
        return out

    def _encode_fake(self, images, training: bool):
        if not training:
            return self.network.encoder(images, training=False)
        return self._keeping_statistics(self.network.encoder, lambda: self.network.encoder(images, training=True))

    def _training(self, training: bool) -> bool:
        return bool(training) and not self._evaluating

    def _sample_posterior(self, posterior: dict) -> dict:
        return {f: posterior[f"mu_{f}"] + ops.exp(0.5 * posterior[f"logvar_{f}"]) *
                keras.random.normal(ops.shape(posterior[f"mu_{f}"]), seed=self.noise) for f in FACTORS}

    def _decode(self, z: dict, training: bool):
        return self.network.decode(z["extra"], z["identity"], z["age"], training=training)

    def _reconstruct(self, x, training: bool):
        posterior = self.network.encoder(x, training=training)
        return posterior, self._decode(self._sample_posterior(posterior), training)

    def _prior_sample(self, ages, like: dict, training: bool):
        """Faces from the prior, with the batch's ages rolled by one as their age codes."""
        sample_ages = ops.roll(ops.cast(ages, "float32"), 1, axis=0)
        z = {f: keras.random.normal(ops.shape(like[f"mu_{f}"]), seed=self.noise) for f in FACTORS}
        z["age"] = z["age"] + age_code(sample_ages, self.age_unit)
        if not training:
            return self._decode(z, False), sample_ages
        return self._keeping_statistics(self.network.decoder, lambda: self._decode(z, True)), sample_ages

    # ---- the two players -----------------------------------------------------------------------
    def generator_losses(self, batch, training):
        training = self._training(training)
        x, ages = batch["image"], batch["age"]
        posterior, reconstruction = self._reconstruct(x, training)
        sample, sample_ages = self._prior_sample(ages, posterior, training)
        kl_rec = factor_kls(self._encode_fake(reconstruction, training), ages, self.age_unit)
        kl_sample = factor_kls(self._encode_fake(sample, training), sample_ages, self.age_unit)
        terms = {"reconstruction": self.weight_rec * intro.reconstruction_sse(reconstruction, x),
                 "kl_reconstruction": 0.5 * self.weight_kl * ops.sum(ops.mean(kl_rec, axis=0)),
                 "kl_sample": 0.5 * self.weight_kl * ops.sum(ops.mean(kl_sample, axis=0))}
        return terms, {"reconstruction": reconstruction, "sample": sample, "sample_age": sample_ages}

    def discriminator_losses(self, batch, fakes, step):
        training = self._training(True)
        x, ages = batch["image"], batch["age"]
        posterior, reconstruction = self._reconstruct(x, training)
        kl_real = factor_kls(posterior, ages, self.age_unit)
        kl_rec = factor_kls(self._encode_fake(fakes["reconstruction"], training), ages, self.age_unit)
        kl_sample = factor_kls(self._encode_fake(fakes["sample"], training), fakes["sample_age"], self.age_unit)
        encoder = self.weight_kl * intro.introspective_encoder_loss(kl_real, kl_rec, kl_sample, self.margins,
                                                                    self.weight_neg)
        real = self.weight_kl * ops.mean(kl_real, axis=0)
        terms = {"reconstruction": self.weight_rec * intro.reconstruction_sse(reconstruction, x),
                 **{f"kl_{f}": real[i] for i, f in enumerate(FACTORS)},
                 "margin": encoder - ops.sum(real)}
        terms["identity"] = self._identity_loss(posterior["mu_identity"], batch.get("identity"), training)
        return terms

    def _identity_loss(self, mu_identity, identity, training):
        if "identity" not in self.discriminators or identity is None or self.weight_identity == 0:
            return ops.zeros((), "float32")
        logits = ops.cast(self.discriminators["identity"](mu_identity, training=training), "float32")
        known = ops.cast(identity >= 0, "float32")
        labels = ops.maximum(ops.cast(identity, "int32"), 0)
        ce = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        return self.weight_identity * ops.sum(ce * known) / ops.maximum(ops.sum(known), 1.0)

    def call(self, inputs, training=False):
        return self.network(inputs["image"] if isinstance(inputs, dict) else inputs, training=training)

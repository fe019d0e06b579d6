"""The `tsit` objective's terms recomputed from its own networks (card checks 5 and 6), the VGG target being
the CONTENT image in AST and the SIS KLD. The XLA-compiled training step (contract item 9) is the short
run's: tools.train runs it with runtime.jit_compile=true (test_tsit_short_run.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import research.generative.tsit  # noqa: F401
from official.core import registry
from official.core.config import OptimizerConfig, ScheduleConfig, TrainerConfig
from official.losses import gan as gan_losses
from official.training.gan.config import GANConfig
from official.vision.gan.vgg_features import SPADE_WEIGHTS
from research.generative.tsit.objective import TSITObjective

TRAINER = TrainerConfig(optimizer=OptimizerConfig(name="adam", beta_1=0.0, beta_2=0.9),
                        lr_schedule=ScheduleConfig(name="constant", base_lr=1e-4))


def _objective(generator, size, **args):
    keras.utils.set_random_seed(0)
    return TSITObjective(generator, GANConfig(objective="tsit", gan_loss="hinge", d_lr_multiplier=4.0), TRAINER,
                         dict(steps_per_epoch=1, total_steps=1, lr_scale=1.0), (*size, 3), d_filters=8, **args)


def _l1(a, b):
    return float(np.mean(np.abs(np.asarray(a) - np.asarray(b))))


def test_hinge_feature_matching_and_kld_edge_cases():
    real, fake = np.full((2, 3, 3, 1), 1.5, np.float32), np.full((2, 3, 3, 1), -1.0, np.float32)
    assert float(gan_losses.hinge_discriminator_loss([real], [fake])) == 0.0
    assert float(gan_losses.hinge_generator_loss([fake, 2 * fake])) == pytest.approx(1.5)
    feats = [[np.ones((1, 4, 4, 2), np.float32)], [np.zeros((1, 2, 2, 2), np.float32)]]
    assert float(gan_losses.feature_matching_loss(feats, feats)) == 0.0
    assert float(gan_losses.kl_divergence(np.zeros((2, 8)), np.zeros((2, 8)))) == 0.0


def test_ast_terms_recomputed_with_vgg_on_the_content_image():
    keras.backend.clear_session()
    obj = _objective(registry.create_model("tsit_tiny"), (32, 32), lambda_feat=2.0, lambda_vgg=3.0, vgg_weights="random")
    rng = np.random.default_rng(0)
    batch = {"a": rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32),
             "b": rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)}
    terms, fakes = obj.generator_losses(batch, training=False)
    fake = np.asarray(fakes["fake"])
    d = obj.discriminators["d"]
    f_out, r_out = d.split(d(fake)), d.split(d(batch["b"]))
    assert len(f_out) == 2
    assert float(terms["adversarial"]) == pytest.approx(np.mean([-np.mean(o[-1]) for o in f_out]), rel=1e-4, abs=1e-6)
    fm = sum(_l1(f, r) for fo, ro in zip(f_out, r_out, strict=True) for f, r in zip(fo[:-1], ro[:-1], strict=True)) / 2 * 2.0
    assert float(terms["feature_matching"]) == pytest.approx(fm, rel=1e-4)
    vgg_fake, vgg_content = obj.vgg(fake), obj.vgg(batch["a"])
    want = 3.0 * sum(w * _l1(f, t) for f, t, w in zip(vgg_fake, vgg_content, SPADE_WEIGHTS, strict=True))
    assert float(terms["vgg"]) == pytest.approx(want, rel=1e-4)
    assert float(terms["kld"]) == 0.0
    d_terms = obj.discriminator_losses(batch, fakes, 0)
    want_d = np.mean([np.mean(np.maximum(0, 1 - r[-1])) + np.mean(np.maximum(0, 1 + f[-1])) for r, f in zip(r_out, f_out, strict=True)])
    # rel 2e-3: the D step calls D in training mode, where spectral norm renormalises the kernels
    assert float(d_terms["adversarial"]) == pytest.approx(want_d, rel=2e-3)
    with pytest.raises(Exception, match="vgg_weights"):
        _objective(registry.create_model("tsit_tiny"), (32, 32), lambda_vgg=1.0)


def test_sis_encodes_the_photo_and_weights_the_kld():
    keras.backend.clear_session()
    obj = _objective(registry.create_model("tsit_sis_tiny"), (32, 64), lambda_vgg=0.0, lambda_kld=0.05,
                     encoder_filters=4, encoder_size=128, d_layers=4)  # 2x2 after 6 convs
    assert obj.discriminators["d"].input_shape[-1] == 39  # concat(36 label channels, image)
    rng = np.random.default_rng(1)
    labels = np.eye(36, dtype=np.float32)[rng.integers(0, 36, (2, 32, 64))]
    batch = {"a": labels, "b": rng.uniform(-1, 1, (2, 32, 64, 3)).astype(np.float32)}
    terms, _ = obj.generator_losses(batch, training=False)
    mu, logvar = (np.asarray(t) for t in obj.generators["encoder"](batch["b"]))
    want = 0.05 * -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar))
    assert float(terms["kld"]) == pytest.approx(want, rel=1e-4) and want > 0

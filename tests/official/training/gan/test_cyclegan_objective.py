"""The CycleGAN objective's terms in closed form: with both generators the negation x -> -x and both
discriminators zeroed (logits 0), cycle losses are exactly 0 (G_B(G_A(a)) = a), identity losses are
lambda_idt * lambda * 2 mean|x| (G(x) = -x), LSGAN gives G terms 1 and D terms 0.5 (CycleGAN's 0.5 factor),
and identity terms vanish with lambda_identity 0 (Sketch2Photo check 5's identity-map case)."""

import keras
import numpy as np
import pytest

from official.core.config import OptimizerConfig, ScheduleConfig, TrainerConfig
from official.training.gan.config import GANConfig
from official.training.gan.cyclegan import CycleGANObjective


def _negation():
    return keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Rescaling(-1.0)], name="negate")


def _objective(**args):
    trainer = TrainerConfig(optimizer=OptimizerConfig(name="adam"), lr_schedule=ScheduleConfig(name="constant", base_lr=1e-3))
    obj = CycleGANObjective(_negation(), GANConfig(objective="cyclegan"), trainer,
                            dict(steps_per_epoch=1, total_steps=1, lr_scale=1.0), (16, 16, 3), d_filters=4, d_layers=2, **args)
    for d in obj.discriminators.values():
        d.set_weights([np.zeros_like(w) for w in d.get_weights()])
    return obj


def test_terms_in_closed_form():
    rng = np.random.default_rng(0)
    batch = {"a": rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32),
             "b": rng.uniform(-0.5, 0.5, (2, 16, 16, 3)).astype(np.float32)}
    obj = _objective(lambda_a=10.0, lambda_b=7.0, lambda_identity=0.5)
    assert obj.generators["b"] is not obj.network and obj.generators["b"].name == "generator_b"
    g, fakes = obj.generator_losses(batch, training=False)
    g = {k: float(v) for k, v in g.items()}
    assert g["cycle_a"] == pytest.approx(0.0, abs=1e-7) and g["cycle_b"] == pytest.approx(0.0, abs=1e-7)
    mean_a, mean_b = np.abs(batch["a"]).mean(), np.abs(batch["b"]).mean()
    assert g["identity_a"] == pytest.approx(0.5 * 7.0 * 2 * mean_b, rel=1e-5)  # |G_A(b) - b| = 2|b|, weight lambda_B
    assert g["identity_b"] == pytest.approx(0.5 * 10.0 * 2 * mean_a, rel=1e-5)
    assert g["adversarial_a"] == pytest.approx(1.0) and g["adversarial_b"] == pytest.approx(1.0)
    np.testing.assert_allclose(np.asarray(fakes["fake_b"]), -batch["a"])
    np.testing.assert_allclose(np.asarray(fakes["fake_a"]), -batch["b"])
    d = obj.discriminator_losses(batch, fakes, 0)
    assert float(d["a"]) == pytest.approx(0.5) and float(d["b"]) == pytest.approx(0.5)
    g0, _ = _objective(lambda_identity=0.0).generator_losses(batch, training=False)
    assert float(g0["identity_a"]) == 0.0 and float(g0["identity_b"]) == 0.0


def test_discriminators_judge_their_own_domain():
    obj = _objective()
    # D_A judges domain B (real b vs G_A(a)); D_B judges domain A: with D_A's logits 1 on everything and D_B's 0,
    # only D_A's terms change.
    last = obj.discriminators["a"].layers[-1]
    kernel, bias = last.get_weights()
    last.set_weights([kernel, np.ones_like(bias)])
    batch = {"a": np.zeros((1, 16, 16, 3), np.float32), "b": np.zeros((1, 16, 16, 3), np.float32)}
    g, fakes = obj.generator_losses(batch, training=False)
    assert float(g["adversarial_a"]) == pytest.approx(0.0) and float(g["adversarial_b"]) == pytest.approx(1.0)
    d = obj.discriminator_losses(batch, fakes, 0)
    assert float(d["a"]) == pytest.approx(0.5) and float(d["b"]) == pytest.approx(0.5)  # 0.5 (0 + 1) and 0.5 (1 + 0)

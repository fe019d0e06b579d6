"""The `forkgan` objective's terms in closed form (card checks 4 and 5) on a tiny configuration:
- code loss is exactly 0 when c_fB == c_A and c_fA == c_B, and equals a numpy recomputation otherwise;
- with the classifier's last conv zeroed (logits 0) every BCE is ln 2: the classifier loss and G's domain loss
  are both ln 2; the BCE agrees with a numpy sigmoid cross-entropy on random logits;
- discriminators replaced by constant maps: LSGAN D loss 0 for D(real) = 1, D(fake) = 0 and 0.5 per role and
  copy (A plus B) for constant 0.5; G's adversarial terms n_d (c - 1)^2 per role;
- the classifier is stepped with the discriminators, never by G's optimizer."""

import math

import keras
import numpy as np
import pytest

from official.core.config import OptimizerConfig, ScheduleConfig, TrainerConfig
from official.training.gan.config import GANConfig
from research.generative.forkgan import objective as fk
from research.generative.forkgan.networks import ForkGenerator

SIZE = (16, 32)


def make_objective(n_d=2, pool=0):
    trainer = TrainerConfig(optimizer=OptimizerConfig(name="adam"), lr_schedule=ScheduleConfig(name="constant", base_lr=1e-3))
    net = ForkGenerator(filters=4, encoder_blocks=1, decoder_blocks=1, image_size=SIZE)
    return fk.ForkGANObjective(net, GANConfig(objective="forkgan", pool_size=pool), trainer,
                               dict(steps_per_epoch=1, total_steps=1, lr_scale=1.0), (*SIZE, 3), n_d=n_d,
                               d_filters=4, d_levels=1, cls_filters=4)


@pytest.fixture(scope="module")
def obj():
    made = make_objective(n_d=2)
    yield made
    keras.backend.clear_session()


@pytest.fixture
def constant_ds(obj):
    """Restores the real discriminators after a test swapped them."""
    saved = dict(obj.discriminators)
    yield
    obj.discriminators.clear()
    obj.discriminators.update(saved)


def _constant_d(fn):
    """A stand-in discriminator: two logit maps, fn(image mean) everywhere."""
    x = keras.Input((*SIZE, 3))
    m = keras.layers.Lambda(lambda t: fn(keras.ops.mean(t, axis=(1, 2, 3), keepdims=True)))(x)
    return keras.Model(x, [keras.ops.zeros((1, 4, 8, 1)) + m, keras.ops.zeros((1, 2, 4, 1)) + m])


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    return {"a": rng.uniform(-1, 1, (2, *SIZE, 3)).astype("float32"), "b": rng.uniform(-1, 1, (2, *SIZE, 3)).astype("float32")}


def test_code_loss_and_bce_closed_forms():
    rng = np.random.default_rng(0)
    c_a, c_b = rng.normal(size=(2, 4, 8, 16)).astype("float32"), rng.normal(size=(2, 4, 8, 16)).astype("float32")
    assert float(fk.code_loss(c_a, c_a, c_b, c_b)) == 0.0
    c_fb, c_fa = rng.normal(size=c_a.shape).astype("float32"), rng.normal(size=c_a.shape).astype("float32")
    want = np.abs(c_a.mean(-1) - c_fb.mean(-1)).mean() + np.abs(c_b.mean(-1) - c_fa.mean(-1)).mean()
    assert float(fk.code_loss(c_a, c_fb, c_b, c_fa)) == pytest.approx(want, rel=1e-5)
    logits = rng.normal(scale=3, size=(1, 1, 1, 2)).astype("float32")
    p = 1 / (1 + np.exp(-logits.ravel()))
    want = -np.mean(np.array([1, 0]) * np.log(p) + np.array([0, 1]) * np.log(1 - p))
    assert float(fk.domain_bce(logits, fk.LABEL_A)) == pytest.approx(want, rel=1e-5)
    assert float(fk.domain_bce(np.zeros((1, 1, 1, 2), "float32"), fk.LABEL_B)) == pytest.approx(math.log(2), abs=1e-7)
    per_image = rng.normal(size=(3, 1, 1, 2)).astype("float32")
    np.testing.assert_allclose(np.asarray(fk.global_batch_mean(per_image)), per_image.mean(0, keepdims=True), rtol=1e-6)


def test_classifier_losses_are_ln2_for_zero_logits(obj):
    cls = obj.discriminators["classifier"]
    last = cls.get_layer("d_h3_pred")
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    g, fakes = obj.generator_losses(_batch(), training=False)
    assert float(g["domain"]) == pytest.approx(math.log(2), abs=1e-6)
    d = obj.discriminator_losses(_batch(), fakes, 0)
    assert float(d["classifier"]) == pytest.approx(math.log(2), abs=1e-6)
    cls_vars = {id(v) for v in cls.trainable_variables}
    assert cls_vars <= {id(v) for v in obj.discriminator_variables}
    assert not cls_vars & {id(v) for v in obj.generator_variables}
    assert len(obj.discriminators) == 1 + 12 and len(obj.generators) == 2


def test_lsgan_terms_in_closed_form(obj, constant_ds):
    for key in [k for k in obj.discriminators if k != "classifier"]:
        obj.discriminators[key] = _constant_d(lambda m: m * 0 + 0.5)
    batch = _batch()
    g, fakes = obj.generator_losses(batch, training=False)
    for role in ("adv_translation", "adv_refine", "adv_reconstruction"):
        assert float(g[role]) == pytest.approx(2 * 0.25, rel=1e-6)  # n_d (0.5 - 1)^2, A and B halved
    d = obj.discriminator_losses(batch, fakes, 0)
    for role in fk.ROLES:
        assert float(d[role]) == pytest.approx(2 * 0.5, rel=1e-6)  # 0.5 per role (A plus B), per copy
    # D(real) = 1 on real images (mean +1), D(fake) = 0 on fakes (mean -1): every D loss is 0.
    for key in [k for k in obj.discriminators if k != "classifier"]:
        obj.discriminators[key] = _constant_d(lambda m: (m + 1.0) / 2.0)
    ones = {"a": np.ones((2, *SIZE, 3), "float32"), "b": np.ones((2, *SIZE, 3), "float32")}
    minus = {k: -np.ones((2, *SIZE, 3), "float32") for k in ("fake_a", "fake_b", "rec_a", "rec_b", "refine_a", "refine_b")}
    d = obj.discriminator_losses(ones, {**fakes, **minus}, 0)
    for role in fk.ROLES:
        assert float(d[role]) == pytest.approx(0.0, abs=1e-7)


def test_cycle_and_reconstruction_terms_match_the_outputs(obj):
    batch = _batch(3)
    g, fakes = obj.generator_losses(batch, training=False)
    g_a2b, g_b2a = obj.network, obj.generators["b2a"]
    fake_a_ = np.asarray(g_b2a(fakes["fake_b"]))  # the translation decoder has no noise
    fake_b_ = np.asarray(g_a2b(fakes["fake_a"]))
    want = 10 * (np.abs(batch["a"] - fake_a_).mean() + np.abs(batch["b"] - fake_b_).mean())
    assert float(g["cycle"]) == pytest.approx(want, rel=1e-5)
    want = 10 * (np.abs(np.asarray(fakes["rec_a"]) - batch["a"]).mean() + np.abs(np.asarray(fakes["rec_b"]) - batch["b"]).mean())
    assert float(g["reconstruction"]) == pytest.approx(want, rel=1e-5)
    np.testing.assert_allclose(np.asarray(fakes["fake_b"]), np.asarray(g_a2b(batch["a"])), atol=1e-6)

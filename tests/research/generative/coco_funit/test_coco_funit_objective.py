"""The `coco_funit` objective, spec-card check 5 and the loss wiring: hinge closed forms (D loss 0 when
D(real) >= 1 and D(fake) <= -1; recon L1 0 when recon == content), and every generator / discriminator term
recomputed with separate network calls and numpy (labels: trans and real style judged with l_y, recon with
l_x; weights 0.5 x adv, 1 x feature matching, 0.1 x recon L1)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import research.generative.coco_funit  # noqa: F401  (registration)
from official.core import registry
from official.core.config import OptimizerConfig, ScheduleConfig, TrainerConfig
from official.losses import gan as gan_losses
from official.training.gan.config import GANConfig
from research.generative.coco_funit.objective import COCOFUNITObjective, l1
from tests import helpers

D_ARGS = dict(num_classes=3, d_filters=8, d_max_filters=32, d_stages=3)


def make_objective(seed=0, ema_decay=0.0, g_args=None, d_args=None):
    keras.utils.set_random_seed(seed)
    g = registry.create_model("coco_funit_tiny", **(g_args or {}))
    helpers.randomise_weights(g, seed)
    trainer = TrainerConfig(optimizer=OptimizerConfig(name="adam", beta_1=0.0, beta_2=0.999),
                            lr_schedule=ScheduleConfig(name="constant", base_lr=1e-4))
    obj = COCOFUNITObjective(g, GANConfig(objective="coco_funit", gan_loss="hinge", ema_decay=ema_decay), trainer,
                             dict(steps_per_epoch=1, total_steps=1, lr_scale=1.0), (32, 32, 3), **{**D_ARGS, **(d_args or {})})
    helpers.randomise_weights(obj.discriminators["d"], seed + 1)
    return obj


def make_batch(seed=0, n=2):
    rng = np.random.default_rng(seed)
    return {"content": rng.uniform(-1, 1, (n, 32, 32, 3)).astype("float32"),
            "style": rng.uniform(-1, 1, (n, 32, 32, 3)).astype("float32"),
            "content_label": np.array([0, 1], "int32")[:n], "style_label": np.array([2, 0], "int32")[:n]}


def test_hinge_closed_forms():
    real = np.array([1.0, 1.5, 3.0], "float32")
    fake = np.array([-1.0, -2.0, -1.25], "float32")
    assert float(gan_losses.hinge_discriminator_loss(real, fake)) == 0.0
    assert float(gan_losses.hinge_discriminator_loss(real - 1.0, fake)) == pytest.approx(np.mean(np.maximum(2.0 - real, 0)))
    assert float(gan_losses.hinge_generator_loss(fake)) == pytest.approx(-fake.mean())
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype("float32")
    assert float(l1(x, x)) == 0.0 and float(l1(x, -x)) == pytest.approx(2 * np.abs(x).mean())


def test_terms_match_separate_calls():
    keras.backend.clear_session()
    obj = make_objective()
    batch = make_batch()
    g, d = obj.network, obj.discriminators["d"]
    terms, fakes = obj.generator_losses(batch, training=False)
    x, y, lx, ly = batch["content"], batch["style"], batch["content_label"], batch["style_label"]
    trans = np.asarray(g({"content": x, "style": y}))
    recon = np.asarray(g({"content": x, "style": x}))
    np.testing.assert_allclose(np.asarray(fakes["trans"]), trans, atol=1e-5)
    out_t, out_r, out_y = (d({"image": im, "label": lab}) for im, lab in ((trans, ly), (recon, lx), (y, ly)))
    adversarial = 0.5 * (-np.mean(out_t["logits"]) - np.mean(out_r["logits"]))
    fm = np.mean(np.abs(np.asarray(out_t["features"]) - np.asarray(out_y["features"])))
    assert float(terms["adversarial"]) == pytest.approx(adversarial, rel=1e-4, abs=1e-6)
    assert float(terms["feature_matching"]) == pytest.approx(fm, rel=1e-4)
    assert float(terms["reconstruction"]) == pytest.approx(0.1 * np.mean(np.abs(recon - x)), rel=1e-4)
    # the discriminator step (training=True: spectral norm's power iteration, which depends on the kernel only)
    state = [w.numpy() for w in d.weights]
    loss = float(obj.discriminator_losses(batch, fakes, 0)["adversarial"])
    logits = []
    for image, label in ((y, ly), (trans, ly)):
        for w, v in zip(d.weights, state, strict=False):
            w.assign(v)
        logits.append(np.asarray(d({"image": image, "label": label}, training=True)["logits"]))
    want = np.mean(np.maximum(1 - logits[0], 0)) + np.mean(np.maximum(1 + logits[1], 0))
    assert loss == pytest.approx(want, rel=1e-4)

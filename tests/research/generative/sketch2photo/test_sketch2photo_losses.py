"""Card checks 4 and 5 and the stage-2 losses against numpy: AdaIN gives the style map's channel statistics
(alpha 0 returns the content); with G_A and G_B identity maps the stage-1 cycle and identity terms are
exactly 0 on clean input, and with a forced patch corruption the cycle term is 10 mean|noisy - clean| (the
target is the CLEAN sketch); the luminance L1 is 0 for the replicated gray input and Y matches PIL's 'L';
content and style losses equal their numpy formulas; the colouriser objective's content/style terms are
0 without a reference and positive with one."""

import keras
import numpy as np
import pytest
from PIL import Image

from official.core.config import OptimizerConfig, ScheduleConfig, TrainerConfig
from official.layers.adaptive_norm import adain
from official.training.gan.config import GANConfig
from research.generative.sketch2photo import losses
from research.generative.sketch2photo.model import Colorizer, Sketch2PhotoGenerator
from research.generative.sketch2photo.objective import ColorizeObjective, Sketch2PhotoObjective

TRAINER = TrainerConfig(optimizer=OptimizerConfig(name="adam"), lr_schedule=ScheduleConfig(name="constant", base_lr=1e-3))
SCHEDULE = dict(steps_per_epoch=1, total_steps=1, lr_scale=1.0)


def test_adain_statistics():
    rng = np.random.default_rng(0)
    content = rng.normal(size=(2, 8, 8, 5)).astype(np.float32)
    style = (rng.normal(size=(2, 6, 6, 5)) * 3 + 1).astype(np.float32)
    out = np.asarray(adain(content, style))
    np.testing.assert_allclose(out.mean(axis=(1, 2)), style.mean(axis=(1, 2)), atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2), ddof=1), style.std(axis=(1, 2), ddof=1), rtol=1e-3)
    np.testing.assert_allclose(np.asarray(adain(content, style, alpha=0.0)), content, atol=1e-6)


def _identity(channels=1, side=32):
    return keras.Sequential([keras.Input((side, side, channels)), keras.layers.Identity()])


def test_stage1_terms_with_identity_generators():
    obj = Sketch2PhotoObjective(Sketch2PhotoGenerator(filters=4, blocks=1, image_size=(32, 32)), GANConfig(objective="sketch2photo"),
                                TRAINER, SCHEDULE, (32, 32, 3), d_filters=4, d_layers=2)
    assert obj.generators["b"].input_shape == (None, 32, 32, 1)
    assert "attention" not in [layer.name for layer in obj.generators["b"].layers]
    assert obj.histories == {} and obj.image_shape == (32, 32, 1) and obj.noise_patch == 12
    obj.network, obj.generators["b"] = _identity(), _identity()
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    batch = {"a": a, "b": rng.uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32),
             "noise": np.full_like(a, 0.5), "other": np.full_like(a, -0.5),
             "draws": np.array([[0.9, 0.1, 0.1], [0.9, 0.5, 0.5]], np.float32)}  # u 0.9: clean
    g, _ = obj.generator_losses(batch, training=True)
    for term in ("cycle_a", "cycle_b", "identity_a", "identity_b"):
        assert float(g[term]) == 0.0, term
    batch["draws"][:, 0] = 0.3  # forced patch
    g, fakes = obj.generator_losses(batch, training=True)
    noisy = np.asarray(fakes["fake_b"])
    assert np.sum(noisy != a) == 2 * 12 * 12
    assert float(g["cycle_a"]) == pytest.approx(10 * np.abs(noisy - a).mean(), rel=1e-5)
    assert float(g["identity_b"]) == 0.0  # G_B(clean sketch) vs the clean sketch


def test_luminance_content_style():
    rng = np.random.default_rng(2)
    gray = rng.uniform(-1, 1, (2, 8, 8, 1)).astype(np.float32)
    assert float(losses.luminance_l1(np.repeat(gray, 3, -1), np.repeat(gray, 3, -1))) == pytest.approx(0.0, abs=1e-6)
    rgb = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    pil = np.asarray(Image.fromarray(rgb).convert("L"), np.float32)
    ours = np.asarray(losses.luminance(rgb[None].astype(np.float32)))[0, ..., 0]
    assert np.abs(ours - pil).max() <= 1.0  # PIL rounds to integers
    x, y = rng.normal(size=(2, 2, 5, 5, 4)).astype(np.float32)
    assert float(losses.content_loss(x, y)) == pytest.approx(np.mean((x - y) ** 2), rel=1e-5)
    feats = [rng.normal(size=(2, s, s, c)).astype(np.float32) for s, c in ((8, 3), (4, 6))]
    refs = [f * 2 + 1 for f in feats]

    def stats(f):
        return f.mean(axis=(1, 2)), np.sqrt(f.var(axis=(1, 2), ddof=1) + 1e-5)

    want = sum(np.mean((stats(f)[0] - stats(r)[0]) ** 2) + np.mean((stats(f)[1] - stats(r)[1]) ** 2)
               for f, r in zip(feats, refs, strict=True))
    assert float(losses.style_loss(feats, refs)) == pytest.approx(want, rel=1e-4)
    assert float(losses.style_loss(feats, feats)) == pytest.approx(0.0, abs=1e-6)


def test_colorize_objective_terms():
    keras.utils.set_random_seed(0)
    net = Colorizer(image_size=(16, 16), blocks=1)
    obj = ColorizeObjective(net, GANConfig(objective="sketch2photo_colorize"), TRAINER, SCHEDULE, (16, 16, 3),
                            d_filters=4, d_layers=2)
    assert [v.name for v in obj.generator_variables] == [v.name for v in net.decoder.trainable_variables]
    rng = np.random.default_rng(3)
    gray = np.repeat(rng.uniform(-1, 1, (2, 16, 16, 1)), 3, -1).astype(np.float32)
    batch = {"a": gray, "b": rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32),
             "reference": rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32), "draws": np.ones((2, 3), np.float32)}
    g, fakes = obj.generator_losses(batch, training=False)
    assert float(g["content"]) == 0.0 and float(g["style"]) == 0.0
    np.testing.assert_allclose(np.asarray(fakes["fake"]), np.asarray(net(gray)), atol=1e-5)  # no reference: plain decode
    assert float(g["luminance"]) == pytest.approx(10 * float(losses.luminance_l1(fakes["fake"], gray)), rel=1e-5)
    batch["draws"][:] = 0.0
    g, _ = obj.generator_losses(batch, training=False)
    assert float(g["content"]) > 0 and float(g["style"]) > 0

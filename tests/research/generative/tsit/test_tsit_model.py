"""TSIT networks: the card's parameter counts (by weight shape, nothing allocated), shapes (card check 2),
FAdaIN (check 3), FADE (check 4), and the two resampling layers against torch."""

from __future__ import annotations

import keras
import numpy as np
import torch

import research.generative.tsit  # noqa: F401  (registers the variants)
from official.core import model_table, registry
from official.layers.adaptive_norm import SpatialDenorm
from research.generative.tsit.layers import AvgPoolExcludePad, FAdaIN, Subsample
from research.generative.tsit.model import TSITDiscriminator, TSITGenerator, TSITImageEncoder


def _trainable(model, prefix: str = "") -> int:
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights if v.path.split("/")[0].startswith(prefix))


def test_parameter_counts_and_shapes_equal_the_card():
    keras.backend.clear_session()
    with model_table.shape_only():
        ast = registry.create_model("tsit_ast")
        assert model_table.weight_counts(ast)[0] == 398_093_739
        assert _trainable(ast, "content_res") == _trainable(ast, "style_res") == 66_730_836  # one stream
        assert 398_093_739 - 2 * 66_730_836 == 264_632_067  # the decoder part of the card
        assert model_table.weight_counts(registry.create_model("tsit_ast_256x512"))[0] == 398_093_739
        assert model_table.weight_counts(registry.create_model("tsit_sis"))[0] == 333_472_311
        assert model_table.weight_counts(TSITDiscriminator())[0] == 1_325_186
        assert model_table.weight_counts(TSITDiscriminator(39, layers_count=4, image_size=(256, 512)))[0] == 5_601_410
        assert model_table.weight_counts(TSITImageEncoder(image_size=(256, 512)))[0] == 10_463_424
        # spectral norm adds only non-trainable u-vectors (one per normalised conv)
        trainable, total = model_table.weight_counts(ast)
        u = [v for v in ast.non_trainable_weights if v.path.endswith("vector_u")]
        assert u and total - trainable == sum(int(np.prod(v.shape)) for v in ast.non_trainable_weights)
        # card check 2 (symbolic shapes of the same build)
        assert ast.get_layer("content_res_0_out").output.shape == (None, 256, 256, 64)
        assert ast.get_layer("style_res_7_out").output.shape == (None, 2, 2, 1024)
        assert ast.output.shape == (None, 256, 256, 3)
        wide = registry.create_model("tsit_ast_256x512")
        assert wide.bottleneck == (2, 4) and wide.get_layer("fc").output.shape == (None, 2, 4, 1024)
        assert wide.output.shape == (None, 256, 512, 3)


def test_tiny_generator_runs_and_depends_on_style_and_noise():
    keras.backend.clear_session()
    g = registry.create_model("tsit_tiny")
    rng = np.random.default_rng(0)
    c, s, s2 = (rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32) for _ in range(3))
    n = rng.standard_normal((2, 2, 2, 3)).astype(np.float32)
    out = np.asarray(g({"content": c, "style": s, "noise": n}, training=False))
    assert out.shape == (2, 32, 32, 3) and np.abs(out).max() <= 1.0
    assert np.abs(out - np.asarray(g({"content": c, "style": s2, "noise": n}, training=False))).max() > 1e-4
    assert np.abs(out - np.asarray(g({"content": c, "style": s, "noise": -n}, training=False))).max() > 1e-4


def test_fadain_gives_the_style_statistics_and_alpha_zero_is_identity():
    rng = np.random.default_rng(1)
    x = rng.normal(2.0, 3.0, (2, 4, 5, 6)).astype(np.float32)
    s = rng.normal(-1.0, 0.5, (2, 4, 5, 6)).astype(np.float32)
    out = np.asarray(FAdaIN()([x, s]))
    np.testing.assert_allclose(out.mean(axis=(1, 2)), s.mean(axis=(1, 2)), atol=1e-4)
    # unbiased std (torch .var default), eps 1e-5 inside the root on both sides
    np.testing.assert_allclose(out.std(axis=(1, 2), ddof=1), s.std(axis=(1, 2), ddof=1), atol=1e-4)
    np.testing.assert_allclose(np.asarray(FAdaIN(alpha=0.0)([x, s])), x, atol=1e-6)


def test_fade_with_zero_gamma_beta_is_parameter_free_batch_norm():
    rng = np.random.default_rng(2)
    x = rng.normal(1.0, 2.0, (3, 4, 4, 5)).astype(np.float32)
    f = rng.normal(size=(3, 4, 4, 7)).astype(np.float32)
    fade = SpatialDenorm(norm="batch", hidden=0)
    fade([x, f])
    for conv in (fade.gamma, fade.beta):
        conv.set_weights([np.zeros_like(w) for w in conv.get_weights()])
    want = (x - x.mean(axis=(0, 1, 2))) / np.sqrt(x.var(axis=(0, 1, 2)) + 1e-5)
    np.testing.assert_allclose(np.asarray(fade([x, f], training=True)), want, atol=1e-4)


def test_resampling_layers_equal_torch():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 9, 12, 3)).astype(np.float32)
    t = torch.from_numpy(x).permute(0, 3, 1, 2)
    down = torch.nn.functional.interpolate(t, scale_factor=0.5, mode="nearest").permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(np.asarray(Subsample()(x[:, :8])), torch.nn.functional.interpolate(
        t[:, :, :8], scale_factor=0.5, mode="nearest").permute(0, 2, 3, 1).numpy())
    assert down.shape[1] == 4  # torch floors odd sizes; the streams only see even ones
    pooled = torch.nn.functional.avg_pool2d(t, 3, 2, 1, count_include_pad=False).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(np.asarray(AvgPoolExcludePad()(x)), pooled, atol=1e-6)


def test_discriminator_returns_features_per_scale():
    keras.backend.clear_session()
    d = TSITDiscriminator(3, 8, 3, 2, (32, 32))
    maps = d.split(d(np.zeros((1, 32, 32, 3), np.float32)))
    assert [len(m) for m in maps] == [4, 4]
    assert [tuple(m[-1].shape[1:3]) for m in maps] == [(11, 11), (7, 7)]  # torch: padding 2, last stride 1
    assert TSITGenerator(mode="sis", ngf=4, levels=3, image_size=(16, 16), semantic_nc=5).output.shape == (None, 16, 16, 3)

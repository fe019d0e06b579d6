"""ExchNet's network: parameter counts from the layer list, the shapes of spec check 6, the tiny variant's
round trips (config, .keras) with a reference computation of the code from its parts."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.core import registry
from research.retrieval.exchnet import variants  # noqa: F401  (registers the variants)
from tests.helpers import run_model_test, trainable_count


def _conv_bn(k, cin, cout):
    return k * k * cin * cout + 2 * cout  # bias-free conv + BN gamma/beta


def _bottleneck(cin, width, stride):
    n = _conv_bn(1, cin, width) + _conv_bn(3, width, width) + _conv_bn(1, width, 4 * width)
    return n + (_conv_bn(1, cin, 4 * width) if (stride > 1 or cin != 4 * width) else 0)


def _basic(cin, width, stride):
    n = _conv_bn(3, cin, width) + _conv_bn(3, width, width)
    return n + (_conv_bn(1, cin, width) if (stride > 1 or cin != width) else 0)


def expected_count(blocks, widths, block, stem, parts, bits, share=False):
    """Stem + stages 1-3, attention 1x1 conv (with bias), stage 4 once or twice, hash (no bias)."""
    make, expand = (_bottleneck, 4) if block == "bottleneck" else (_basic, 1)
    cin, stages = stem, []
    total = _conv_bn(7, 3, stem)
    for s, (count, width) in enumerate(zip(blocks, widths, strict=True)):
        n = 0
        for i in range(count):
            n += make(cin, width, 2 if (i == 0 and s > 0) else 1)
            cin = width * expand
        stages.append(n)
    mid = widths[2] * expand
    total += sum(stages[:3]) + mid * parts + parts + stages[3] * (1 if share else 2)
    return total + (parts + 1) * widths[3] * expand * bits


# The full variant: 8,543,296 (ResNet-50 to stage 3) + 4,100 (attention) + 2 x 14,964,736 (stage 4, parts
# and global) + 491,520 (10,240 x 48 hash) = 38,968,388.
FULL = 38_968_388


@pytest.fixture(scope="module")
def full():
    keras.backend.clear_session()
    return registry.create_model("exchnet_resnet50")


def test_full_variant_count_and_check6_shapes(full):
    assert expected_count((3, 4, 6, 3), (64, 128, 256, 512), "bottleneck", 64, 4, 48) == FULL
    assert trainable_count(full) == FULL
    feats = full.feature_model().output
    assert tuple(feats["mid"].shape[1:]) == (28, 28, 1024)  # E after stage 3 at 448 px
    assert tuple(feats["attention"].shape[1:]) == (28, 28, 4)
    assert tuple(full.get_layer("local_refine").output.shape[1:]) == (14, 14, 2048)
    assert tuple(feats["parts"].shape[1:]) == (4, 2048) and tuple(feats["global"].shape[1:]) == (2048,)
    assert tuple(full.get_layer("hash").kernel.shape) == (5 * 2048, 48)
    assert full.get_layer("hash").bias is None


def test_shared_refinement_count():
    keras.backend.clear_session()
    kw = dict(code_bits=24, blocks=(1, 1, 1, 1), widths=(8, 16, 32, 64), block="basic", stem_width=8,
              input_shape=(32, 32, 3))
    shared = registry.create_model("exchnet_tiny", share_refinement=True, **kw)
    assert trainable_count(shared) == expected_count((1, 1, 1, 1), (8, 16, 32, 64), "basic", 8, 4, 24, share=True)


def test_tiny_variant_round_trips_and_code_from_parts(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    model = run_model_test(
        "exchnet_tiny", tmp_path, overrides={"input_shape": (32, 32, 3)}, inputs=x,
        expected_trainable=expected_count((1, 1, 1, 1), (8, 16, 32, 64), "basic", 8, 4, 12),
        expected_output_shapes=[(2, 12)], saved_model=False)
    feats = model.feature_model()(x, training=False)
    kernel = np.asarray(model.get_layer("hash").kernel)
    joined = np.concatenate([np.asarray(feats["global"]), np.asarray(feats["parts"]).reshape(2, -1)], axis=1)
    np.testing.assert_allclose(np.asarray(model(x, training=False)), joined @ kernel, rtol=1e-4, atol=1e-5)
    # part j's feature = stage 4 on E * A_j (Eq. 1-3)
    e, a = np.asarray(feats["mid"]), np.asarray(feats["attention"])
    refine = model.get_layer("local_refine")
    part1 = np.asarray(refine(e * a[..., 1:2], training=False)).mean(axis=(1, 2))
    np.testing.assert_allclose(np.asarray(feats["parts"])[:, 1], part1, rtol=1e-4, atol=1e-5)
    assert np.all((a > 0) & (a < 1))  # sigmoid maps

"""S2DNet (research/geometry/s2dnet): spec card s2dnet.md checks 1-5 and 7 and the JAX backend (item 9).

One randomised s2dnet_tiny (built once per module: a build and its first eager call cost about a second of CPU)
serves the in-place ReLU, shape, exact-recovery and round-trip checks. The XLA training step (item 9) is the
short run's (test_s2dnet_short_run.py, jit_compile=True): a separate XLA step here cost about 27 s of CPU for
the compile alone."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy import ndimage

import research.geometry.s2dnet  # noqa: F401  (registration)
from official.core import model_table, registry
from research.geometry.s2dnet import losses, matching
from research.geometry.s2dnet.model import effective_taps
from tests import helpers


@pytest.fixture(scope="module")
def tiny():
    """s2dnet_tiny (VGG widths / 8, adaptation 16 -> 32) with random weights and BN statistics."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(1)
    model = registry.create_model("s2dnet_tiny")
    helpers.randomise_weights(model, 1)
    return model


def test_parameter_counts_and_taps():
    """Check 1: 15,383,680 trainable + 768 BN statistics; taps conv1_2 / conv3_3 / conv5_3, 128-d outputs."""
    with model_table.shape_only():
        model = registry.create_model("s2dnet_vgg16")
        trainable, total = model_table.weight_counts(model)
        assert (trainable, total - trainable) == (15_383_680, 768)
        trunk = sum(int(np.prod(v.shape)) for v in model.trainable_weights if v.path.startswith("conv"))
        assert trunk == 14_714_688 and trainable - trunk == 668_992
        assert model.constructor_args["hypercolumn_layers"] == ("conv1_2", "conv3_3", "conv5_3")
        assert [tuple(o.shape[1:]) for o in model.outputs] == [(None, None, 128)] * 3
    assert effective_taps(("conv1_2", "conv3_3", "conv5_3")) == ("relu1_2", "relu3_3", "conv5_3")


def test_inplace_relu_parity(tiny):
    """Check 1: adaptation layers 1 and 2 see non-negative maps (relu1_2, relu3_3), layer 3 a signed conv5_3."""
    probe = keras.Model(tiny.inputs, [tiny.get_layer(f"adap_layer_{i}_conv1x1").input for i in range(3)])
    x = np.random.default_rng(0).uniform(0, 1, (1, 32, 48, 3)).astype(np.float32)
    first, second, third = (np.asarray(t) for t in probe(x))
    assert first.min() >= 0 and second.min() >= 0
    assert third.min() < 0 < third.max()


def test_shapes_and_strides(tiny):
    """Check 2: (1, 256, 320, 3) -> 128-d maps at 256x320, 64x80, 16x20; strides 1 / 4 / 16 for other sizes."""
    with model_table.shape_only():
        model = registry.create_model("s2dnet_vgg16")
        shapes = model.compute_output_shape((1, 256, 320, 3))
    assert [tuple(shapes[k]) for k in sorted(shapes)] == [(1, 256, 320, 128), (1, 64, 80, 128), (1, 16, 20, 128)]
    assert tiny.strides == (1, 4, 16)
    for h, w in ((32, 48), (48, 16)):
        out = tiny(np.zeros((1, h, w, 3), np.float32))
        assert [tuple(out[k].shape[1:3]) for k in sorted(out)] == [(h // s, w // s) for s in (1, 4, 16)]


def test_bilinear_sampling_matches_scipy():
    """Check 3: sample at x -> map column x / s - 0.5 (half-pixel), = map_coordinates(order=1, mode="nearest")."""
    rng = np.random.default_rng(0)
    fmap = rng.normal(size=(2, 6, 9, 4)).astype(np.float32)
    for stride in (1, 4):
        pts = rng.uniform(-2, [9 * stride + 2, 6 * stride + 2], size=(2, 40, 2)).astype(np.float32)
        pts[:, 0] = [0.5 * stride, 0.5 * stride]  # exactly on the first sample centre
        got = np.asarray(matching.sample_descriptors(fmap, pts, stride))
        for b in range(2):
            coords = np.stack([pts[b, :, 1] / stride - 0.5, pts[b, :, 0] / stride - 0.5])
            want = np.stack([ndimage.map_coordinates(fmap[b, :, :, c], coords, order=1, mode="nearest")
                             for c in range(4)], -1)
            np.testing.assert_allclose(got[b], want, atol=1e-5)
        np.testing.assert_allclose(got[:, 0], fmap[:, 0, 0], atol=1e-6)


def test_translation_recovered_exactly_without_training(tiny):
    """Check 4: target = source shifted by 16 px; random weights, BN in inference, level conv1_2 only."""
    model = tiny
    rng = np.random.default_rng(0)
    big = rng.uniform(0, 1, (1, 96, 128 + 16, 3)).astype(np.float32)
    source, target = big[:, :, 16:], big[:, :, :128]  # source pixel x sits at x + 16 in the target
    ys, xs = np.mgrid[40:96 - 40:4, 40:128 - 40:4]
    kp = np.stack([xs.ravel(), ys.ravel()], -1)[None].astype(np.float32) + 0.5
    src, tgt = model(source, training=False), model(target, training=False)
    keys = sorted(src)
    xy, _, score = matching.match_sparse_to_dense([src[k] for k in keys], [tgt[k] for k in keys], kp,
                                                  np.ones(kp.shape[:2], bool), model.strides, levels=(0,))
    np.testing.assert_array_equal(np.asarray(xy), kp + np.array([16.0, 0.0], np.float32))
    np.testing.assert_allclose(np.asarray(score), 1.0, atol=1e-4)  # the same descriptor: cosine 1


def test_ratio_test_and_cell_centres():
    """Check 5: a one-hot map passes, a constant map fails; cell i at stride s -> (i + 0.5) s."""
    one_hot = np.zeros((1, 2, 500), np.float32)
    one_hot[0, 0, 123] = 1.0
    one_hot[0, 1] = 0.7  # constant
    index, best, passed = (np.asarray(v) for v in matching.ratio_test(one_hot, factor=0.006))
    assert index[0, 0] == 123 and best[0, 0] == 1.0
    assert passed.tolist() == [[True, False]]
    xy = np.asarray(matching.cell_centres(np.array([0, 5, 23]), width=10, stride=4))
    np.testing.assert_array_equal(xy, [[2.0, 2.0], [22.0, 2.0], [14.0, 10.0]])


def test_classification_loss():
    """Check 7: CE = -log p_gt; a peaked map scores lower than a flat one; a constant map gives log(H W)."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 48)).astype(np.float32)
    gt = rng.integers(0, 48, (2, 3))
    mask = np.ones((2, 3), bool)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    want = -np.mean(np.log(np.take_along_axis(p, gt[..., None], -1)))
    assert float(losses.correspondence_cross_entropy(logits, gt, mask)) == pytest.approx(want, rel=1e-5)
    flat = np.zeros_like(logits)
    assert float(losses.correspondence_cross_entropy(flat, gt, mask)) == pytest.approx(np.log(48), rel=1e-6)
    peaked = np.where(np.arange(48) == gt[..., None], 10.0, 0.0).astype(np.float32)
    assert float(losses.correspondence_cross_entropy(peaked, gt, mask)) < 0.01
    half = mask.copy()
    half[:, 1:] = False  # masked keypoints do not count
    want0 = -np.mean(np.log(p[np.arange(2), 0, gt[:, 0]]))
    assert float(losses.correspondence_cross_entropy(logits, gt, half)) == pytest.approx(want0, rel=1e-5)


def test_round_trips_and_jax(tiny, tmp_path):
    """Config / .keras round trips and the forward pass under KERAS_BACKEND=jax = TensorFlow (item 9).
    s2dnet_tiny: VGG widths 8-16-32-64-64 = 230,568; adaptation (8|32|64 -> 16 -> 32, BN) 13,040 + 13,424 + 13,936."""
    assert helpers.trainable_count(tiny) == 270_968
    x = np.random.default_rng(0).uniform(0, 1, (1, 32, 48, 3)).astype(np.float32)
    outputs = helpers.outputs_of(tiny, x)
    assert min(float(np.std(o)) for o in outputs) > 1e-2  # random BN statistics: outputs far from zero
    helpers.check_config_round_trip(tiny, x, atol=1e-5)
    helpers.check_keras_round_trip(tiny, tmp_path, x, atol=1e-5)
    helpers.check_jax_parity(tiny, tmp_path, x, atol=1e-4)

"""Spec check 4 (weak supervision): a gesture-only batch gives zero gradient on the pose-only parameters and
a pose-only batch zero gradient on the gesture classifier; plus the loss values of exact predictions."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from research.three_d.gesture_handpose import losses
from research.three_d.gesture_handpose.model import GestureHandPose
from tests.helpers import randomise_weights

TINY = dict(num_classes=3, frames=4, image_size=32, backbone_blocks=(1, 1, 1, 1), backbone_widths=(8, 8, 8, 8),
            stem_width=8, block="basic", trunk_level=3, deconv_filters=(8, 8), joint_feature_dim=4,
            temporal_width=8, slow_stride=2, relation_scales=(2, 3))
POSE_ONLY = ("depth", "depth_refine", "heatmap_refine")  # layers that only the pose loss reaches
GESTURE_ONLY = ("gesture_logits",)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    m = GestureHandPose(**TINY)
    randomise_weights(m, 0)
    return m


def _batch(has_label, has_pose, seed=0):
    rng = np.random.default_rng(seed)
    b = len(has_label)
    cam = rng.normal(0, 30, (b, 4, 21, 3)) + [0, 0, 400.0]
    y = {"label": rng.integers(0, 3, b).astype(np.int32), "joints_uv": rng.uniform(2, 30, (b, 4, 21, 2)).astype(np.float32),
         "joints_cam": cam.astype(np.float32), "has_label": np.asarray(has_label, np.float32),
         "has_pose": np.asarray(has_pose, np.float32)}
    return rng.uniform(0, 255, (b, 4, 32, 32, 3)).astype(np.float32), y


def _grads(model, x, y):
    variables = {v.path: v for v in model.trainable_variables}
    with tf.GradientTape() as tape:
        total = model.compute_loss(x, y, model(x, training=True))
    grads = tape.gradient(total, list(variables.values()))
    return float(total), {p: (0.0 if g is None else float(tf.reduce_sum(tf.abs(g)))) for p, g in zip(variables, grads, strict=True)}


def _layer_grad(grads, layer):
    return sum(v for p, v in grads.items() if p.split("/")[-2] == layer)


def test_gesture_only_batch_leaves_pose_head_untouched(model):
    x, y = _batch([1, 1], [0, 0])
    total, grads = _grads(model, x, y)
    assert total > 0
    for layer in POSE_ONLY:
        assert _layer_grad(grads, layer) == 0.0, layer
    assert _layer_grad(grads, "gesture_logits") > 0 and _layer_grad(grads, "heatmap") > 0  # collaborative


def test_pose_only_batch_leaves_gesture_classifier_untouched(model):
    x, y = _batch([0, 0], [1, 1])
    _, grads = _grads(model, x, y)
    for layer in GESTURE_ONLY:
        assert _layer_grad(grads, layer) == 0.0, layer
    for layer in POSE_ONLY:
        assert _layer_grad(grads, layer) > 0, layer


def test_mixed_batch_averages_over_the_masked_samples(model):
    x, y = _batch([1, 0], [0, 1])
    out = model(x, training=False)
    _, terms = losses.total_loss(out, y, model.stride, 100.0, 1.0, 1.0, 1.0, 1.0)
    ce = keras.ops.sparse_categorical_crossentropy(y["label"], out["gesture_logits"], from_logits=True)
    np.testing.assert_allclose(float(terms["gesture_loss"]), float(ce[0]), rtol=1e-5)
    hm_true, _ = losses.pose_targets(y, model.stride)
    coord = np.mean(np.abs(np.asarray(out["joints_hm"])[1] - np.asarray(hm_true)[1]))
    np.testing.assert_allclose(float(terms["coord_loss"]), coord, rtol=1e-5)


def test_exact_pose_gives_zero_pose_terms():
    rng = np.random.default_rng(3)
    cam = (rng.normal(0, 30, (1, 2, 21, 3)) + [0, 0, 400.0]).astype(np.float32)
    uv = rng.uniform(4, 28, (1, 2, 21, 2)).astype(np.float32)
    y = {"label": np.array([1]), "joints_uv": uv, "joints_cam": cam, "has_label": np.ones(1), "has_pose": np.ones(1)}
    hm, z = losses.pose_targets(y, 2)
    np.testing.assert_allclose(np.asarray(hm), (uv + 0.5) / 2 - 0.5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(z)[..., 0], 0.0, atol=1e-6)  # the wrist is the root
    pred = {"gesture_logits": np.array([[0.0, 50.0, 0.0]], np.float32), "joints_hm": hm,
            "joints3d": np.concatenate([uv, np.asarray(z)[..., None]], -1)}
    total, terms = losses.total_loss(pred, y, 2, 100.0, 1.0, 1.0, 0.0, 1.0)
    assert float(terms["coord_loss"]) < 1e-6 and float(terms["depth_loss"]) < 1e-6 and float(total) < 1e-6
    g = np.asarray(losses.gaussian_targets(np.array([[[3.0, 5.0]]], np.float32), 8, 8, 1.0))
    assert g.shape == (1, 8, 8, 1) and abs(g.sum() - 1) < 1e-5 and np.unravel_index(g[0, ..., 0].argmax(), (8, 8)) == (5, 3)

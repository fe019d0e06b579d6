"""Registered variants' exact parameter counts, spec check 6 (shapes), config / .keras round trips and the
per-frame pose network (the TFLite body) against the clip model."""

from __future__ import annotations

import keras
import numpy as np

from official.core import registry
from research.three_d.gesture_handpose.model import GestureHandPose
from tests.helpers import check_config_round_trip, check_keras_round_trip, randomise_weights

# Counted by `python -m tools.list --pattern='gesture_handpose_*'` (trainable, BN gamma/beta in).
TINY_COUNT = 205_583
R50_COUNT = 43_654_145  # reconstruction (no official figure): ResNet-50 trunk 23,508,032 + the rest


def test_config_defaults_are_fphas_camera():
    from official.data import fpha
    from research.three_d.gesture_handpose.config import FphaDataConfig

    assert FphaDataConfig().focal == fpha.COLOR_FOCAL and FphaDataConfig().center == fpha.COLOR_CENTER


def test_registered_counts():
    tiny = registry.create_model("gesture_handpose_tiny")
    assert tiny.trainable_parameter_count == TINY_COUNT
    r50 = registry.create_model("gesture_handpose_r50")
    assert r50.trainable_parameter_count == R50_COUNT
    assert tuple(r50.output["heatmaps"].shape[1:]) == (8, 56, 56, 21) and tuple(r50.output["gesture_logits"].shape) == (None, 45)
    trunk = sum(int(np.prod(v.shape)) for v in r50.frame_net.trainable_weights if v.path.startswith("backbone"))
    assert trunk == 23_508_032  # torchvision resnet50 without fc (25,557,032 - 2,049,000)


def test_clip_shapes_round_trips_and_frame_pose(tmp_path):
    """Check 6: clip (2, 8, 128, 128, 3) -> logits (2, 45), heatmaps (2, 8, 32, 32, 21), joints (2, 8, 21, 3)."""
    keras.utils.set_random_seed(0)
    model = registry.create_model("gesture_handpose_tiny", num_classes=45, image_size=128, deconv_filters=(16,))
    clip = np.random.default_rng(0).uniform(0, 255, (2, 8, 128, 128, 3)).astype(np.float32)
    out = model(clip, training=False)
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "gesture_logits": (2, 45), "heatmaps": (2, 8, 32, 32, 21), "joints_hm": (2, 8, 21, 2), "joints3d": (2, 8, 21, 3)}
    assert model.stride == 4
    # the per-frame pose body equals the clip model's pose while the gesture context is zero (fresh model)
    frame = model.frame_pose_model()
    np.testing.assert_allclose(np.asarray(frame(clip[1, 3:5])), np.asarray(out["joints3d"])[1, 3:5], atol=1e-4)
    # joints3d (u, v) = (joints_hm + 0.5) * stride - 0.5
    np.testing.assert_allclose(np.asarray(out["joints3d"])[..., :2], (np.asarray(out["joints_hm"]) + 0.5) * 4 - 0.5, atol=1e-4)
    small = GestureHandPose(num_classes=3, frames=4, image_size=32, backbone_blocks=(1, 1, 1, 1),
                            backbone_widths=(8, 8, 8, 8), stem_width=8, block="basic", trunk_level=3,
                            deconv_filters=(8, 8), joint_feature_dim=4, temporal_width=8, slow_stride=2,
                            relation_scales=(2, 3))
    randomise_weights(small, 1)
    x = clip[:, :4, :32, :32]
    check_config_round_trip(small, x, atol=1e-5)
    check_keras_round_trip(small, tmp_path, x, atol=1e-5)

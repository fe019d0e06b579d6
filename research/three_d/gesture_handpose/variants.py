"""Registered Gesture+HandPose networks (counts: tests/research/three_d/gesture_handpose/test_model.py).

- gesture_handpose_r50   the paper-experiment network (unverified: ResNet-50 trunk + 3 x 256 deconv neck,
                         224 px hand crops, T = 8, 45 FPHA classes, 21 joints, feedback on)
- gesture_handpose_tiny  a CPU-sized network for tests and the synthetic small run (64 px crops, ResNet
                         BasicBlocks (1, 1, 1, 1) at widths (16, 32, 32, 32), C3 + two deconvs -> 32 x 32
                         heatmaps, 3 gesture classes)
"""

from official.core.registry import register_variant
from research.three_d.gesture_handpose.model import GestureHandPose

register_variant("gesture_handpose_r50", GestureHandPose)
register_variant(
    "gesture_handpose_tiny", GestureHandPose, num_classes=3, image_size=64, backbone_blocks=(1, 1, 1, 1),
    backbone_widths=(16, 32, 32, 32), stem_width=16, block="basic", trunk_level=3, deconv_filters=(32, 32),
    joint_feature_dim=8, temporal_width=32, slow_stride=2, relation_scales=(2, 3),
)

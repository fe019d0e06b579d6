"""Mask2CAD per-RoI heads (keras.ops / keras.layers only): shape embedding, rotation bins, quaternion
residual and projected-centre offset, on mask-weighted 14x14 RoI features.

Spec card `Method` (paper + reimpl): the input is the Mask R-CNN mask-branch RoI feature (R, 14, 14, 256)
multiplied by the predicted instance mask (soft masking focuses the embedding on the object).
- embedding: 3x [Conv3x3 256 + BN + ReLU] + Conv3x3 128 + BN + ReLU, global average pool, L2-normalise
  -> (R, 128);
- pose trunk: 4x [Conv3x3 256 + BN + ReLU], global average pool, then three linears (one trunk, "same
  trunk" in the card): rotation-bin logits (R, C, 16), quaternion residual (R, C, 4) whose bias starts at
  the identity [1, 0, 0, 0] (GUESS: reimpl writes w = 0.95; decoding normalises, so only the start
  differs), and the box-normalised projected-centre offset (R, C, 2).
GUESS: convolutions before BN carry no bias (a bias there is cancelled by BN); BN momentum 0.9, eps 1e-5
(PyTorch defaults, as the reimpl is PyTorch). C is the number of object categories (no background).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooModel

ROI_SIZE = 14  # spec card: mask-branch RoI features 14 x 14
NUM_BINS = 16  # spec card: 16 rotation bins per category


class L2Normalize(layers.Layer):
    """x / ||x|| over the last axis (eps-guarded); a layer so the functional graph serialises."""

    def call(self, x):
        return x / ops.sqrt(ops.maximum(ops.sum(x * x, axis=-1, keepdims=True), 1e-24))


class MaskWeighting(layers.Layer):
    """RoI features (R, S, S, C) times the instance-mask probabilities (R, S, S, 1)."""

    def call(self, features, mask_probs):
        return features * ops.cast(mask_probs, features.dtype)


def _conv_bn_relu(x, filters: int, name: str, bn: dict):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", **bn)(x)
    return layers.ReLU(name=f"{name}_relu")(x)


class Mask2CADHeads(ZooModel):
    """Inputs: roi_features (R, S, S, in_width), mask_probs (R, S, S, 1). Outputs a dict:
    embedding (R, embed_dim) unit vectors, rotation_logits (R, C, B), rotation_delta (R, C, 4),
    centre_offset (R, C, 2)."""

    def __init__(self, num_classes: int, num_bins: int = NUM_BINS, roi_size: int = ROI_SIZE, in_width: int = 256,
                 width: int = 256, embed_dim: int = 128, embed_convs: int = 3, pose_convs: int = 4,
                 delta_bias_w: float = 1.0, bn_momentum: float = 0.9, bn_epsilon: float = 1e-5, **kwargs):
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        feats = keras.Input((roi_size, roi_size, in_width), name="roi_features")
        masks = keras.Input((roi_size, roi_size, 1), name="mask_probs")
        x = MaskWeighting(name="mask_weighting")(feats, masks)
        e = x
        for i in range(embed_convs):
            e = _conv_bn_relu(e, width, f"embed{i + 1}", bn)
        e = _conv_bn_relu(e, embed_dim, f"embed{embed_convs + 1}", bn)
        e = layers.GlobalAveragePooling2D(name="embed_pool")(e)
        embedding = L2Normalize(name="embedding")(e)
        p = x
        for i in range(pose_convs):
            p = _conv_bn_relu(p, width, f"pose{i + 1}", bn)
        p = layers.GlobalAveragePooling2D(name="pose_pool")(p)
        logits = layers.Dense(num_classes * num_bins, name="rotation_cls")(p)
        bias = [delta_bias_w, 0.0, 0.0, 0.0] * num_classes
        delta = layers.Dense(num_classes * 4, kernel_initializer=keras.initializers.RandomNormal(stddev=0.001),
                             bias_initializer=keras.initializers.Constant(bias), name="rotation_delta")(p)
        centre = layers.Dense(num_classes * 2, kernel_initializer=keras.initializers.RandomNormal(stddev=0.001),
                              name="centre")(p)
        outputs = {
            "embedding": embedding,
            "rotation_logits": layers.Reshape((num_classes, num_bins), name="rotation_logits")(logits),
            "rotation_delta": layers.Reshape((num_classes, 4), name="rotation_delta_rs")(delta),
            "centre_offset": layers.Reshape((num_classes, 2), name="centre_offset")(centre),
        }
        super().__init__(inputs={"roi_features": feats, "mask_probs": masks}, outputs=outputs, **kwargs)
        self.num_classes, self.num_bins, self.embed_dim = num_classes, num_bins, embed_dim


def expected_parameter_count(num_classes: int, num_bins: int = NUM_BINS, in_width: int = 256, width: int = 256,
                             embed_dim: int = 128, embed_convs: int = 3, pose_convs: int = 4) -> int:
    """Trainable parameters by the card's layer list (conv without bias, BN gamma + beta, linears)."""
    def conv_bn(cin, cout):
        return 9 * cin * cout + 2 * cout
    total = 0
    cin = in_width
    for _ in range(embed_convs):
        total += conv_bn(cin, width)
        cin = width
    total += conv_bn(cin, embed_dim)
    cin = in_width
    for _ in range(pose_convs):
        total += conv_bn(cin, width)
        cin = width
    return total + (cin + 1) * num_classes * (num_bins + 4 + 2)

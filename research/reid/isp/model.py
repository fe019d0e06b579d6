"""ISP network (Zhu et al., ECCV 2020): HRNet trunk + the identity-guided parsing head + BNNeck classifiers.

Facts from CASIA-IVA-Lab/ISP-reID (`modeling/backbones/cls_hrnet.py`, `modeling/baseline.py`), spec card
`isp_reid.md`:
- incre modules: one Bottleneck per branch (planes 32/64/128/256 -> 128/256/512/1024 channels);
  branches 2-4 bilinearly upsampled (align_corners=True) to branch 1 and concatenated: 1,920 channels
  at 1/4 resolution;
- cls_head: 1x1 conv 1920 -> 256 with bias + BN + ReLU = X (492,288 parameters);
- SpatialAttn: 3x3 stride-2 conv 256 -> 1 (bias) + BN, ReLU, bilinear x2 (align_corners), 1x1 conv
  (bias) + BN, sigmoid (2,311 parameters); X = X * mask;
- part classifier: 1x1 conv 256 -> K with bias (K = 7: 1,799 parameters), P = softmax;
- y_part = [GAP(X * P_k) for k = 1..K-1] (6 x 256), y_global = GAP(X), y_fore = GAP(X * sum_{k>=1} P_k);
- BNNeck: BatchNorm1d with a frozen zero shift (Keras: center=False), then a bias-free linear ID
  classifier initialised N(0, 0.001) per feature;
- test feature: concat(BN part, BN global, BN foreground) = 2,048-d, L2-normalised (TEST.FEAT_NORM yes).
Layer names are the official module paths without the `base.` prefix (convert.py maps them).
"""

from __future__ import annotations

import keras
from keras import ops

from official.core.base_model import ZooLayer, ZooModel
from official.vision.backbones.hrnet import (
    BN_EPSILON,
    BN_MOMENTUM,
    bn,
    bottleneck,
    conv,
    hrnet_branches,
    relu,
)
from official.vision.rsn.layers import ResizeAlignCorners

OUTPUT_KEYS = (
    "embedding", "features", "part_logits", "feature_map", "visibility",
    "y_part", "y_global", "y_fore", "logits_part", "logits_global", "logits_fore",
)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PartPooling(ZooLayer):
    """(X (batch, h, w, C), part logits (batch, h, w, K)) -> y_part (batch, (K-1) C), y_global, y_fore (batch, C).

    y_part concatenates GAP(X * P_k) for k = 1..K-1 in part order (the official torch.cat over channels).
    """

    def call(self, inputs):
        x, logits = inputs
        probs = ops.softmax(logits, axis=-1)
        area = ops.cast(ops.shape(x)[1] * ops.shape(x)[2], x.dtype)
        pooled = ops.einsum("bhwk,bhwc->bkc", probs, x) / area  # GAP(X * P_k) for every k
        parts = pooled[:, 1:, :]
        y_part = ops.reshape(parts, (-1, parts.shape[1] * parts.shape[2]))
        y_global = ops.mean(x, axis=(1, 2))
        foreground = ops.sum(probs[..., 1:], axis=-1, keepdims=True)
        y_fore = ops.mean(x * foreground, axis=(1, 2))
        return y_part, y_global, y_fore


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PartVisibility(ZooLayer):
    """Part k (1..K-1) is visible when it wins the argmax at one pixel at least (TEST.WITH_ARM): (batch, K-1) 0/1."""

    def call(self, logits):
        # a pixel's winner is the part equal to its max logit (exact ties, which argmax would break to
        # the lower index, have probability zero); Equal/Max/Cast keep TFLite builtin (one_hot is not)
        winners = ops.cast(ops.equal(logits, ops.max(logits, axis=-1, keepdims=True)), logits.dtype)
        return ops.max(winners, axis=(1, 2))[:, 1:]


@keras.saving.register_keras_serializable(package="eccv20zoo")
class L2Normalize(ZooLayer):
    """x / max(||x||, 1e-12) along the last axis (F.normalize)."""

    def call(self, x):
        return x / ops.maximum(ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True)), 1e-12)


def spatial_attention(x, name: str = "spatial_attn"):
    """SpatialAttn: the mask (batch, h, w, 1) the head multiplies X with."""
    h, w = int(x.shape[1]), int(x.shape[2])
    m = relu(bn(conv(x, 1, 3, 2, f"{name}.conv1.conv", use_bias=True), f"{name}.conv1.bn"))
    m = ResizeAlignCorners((2 * int(m.shape[1]), 2 * int(m.shape[2])))(m)
    if (int(m.shape[1]), int(m.shape[2])) != (h, w):
        raise ValueError(f"spatial attention: feature map {h}x{w} must have even sides (the mask is upsampled x2)")
    m = bn(conv(m, 1, 1, 1, f"{name}.conv2.conv", use_bias=True), f"{name}.conv2.bn")
    return keras.layers.Activation("sigmoid")(m)


def bnneck(y, num_classes: int, name: str):
    """BatchNorm1d with frozen zero shift, then the bias-free N(0, 0.001) ID classifier: (feat, logits)."""
    feat = keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, center=False,
                                           name=f"bottleneck_{name}")(y)
    logits = keras.layers.Dense(num_classes, use_bias=False, name=f"classifier_{name}",
                                kernel_initializer=keras.initializers.RandomNormal(stddev=0.001))(feat)
    return feat, logits


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ISPNet(ZooModel):
    """ISP: image (batch, H, W, 3), ImageNet-normalised -> dict of OUTPUT_KEYS.

    embedding (batch, (K+1) D) L2-normalised test feature; features: the same before normalisation;
    part_logits (batch, H/4, W/4, K); feature_map X (batch, H/4, W/4, D) (clustering input);
    visibility (batch, K-1); y_* pooled features before BNNeck (triplet/center losses); logits_* ID logits.
    """

    def __init__(
        self, num_classes: int = 751, part_num: int = 7, input_shape: tuple[int, int, int] = (256, 128, 3),
        width: int = 32, stem_channels: int = 64, layer1_planes: int = 64, layer1_blocks: int = 4,
        stage_modules: tuple[int, int, int] = (1, 4, 3), blocks: int = 4,
        incre_planes: tuple[int, int, int, int] = (32, 64, 128, 256), head_channels: int = 256, **kwargs,
    ):
        images = keras.Input(tuple(input_shape), name="images")
        branches = hrnet_branches(images, width, stem_channels, layer1_planes, layer1_blocks, tuple(stage_modules), blocks)
        branches = [bottleneck(x, planes, f"incre_modules.{i}.0") for i, (x, planes) in enumerate(zip(branches, incre_planes, strict=True))]
        size = (int(branches[0].shape[1]), int(branches[0].shape[2]))
        x = keras.layers.Concatenate()([branches[0], *[ResizeAlignCorners(size)(b) for b in branches[1:]]])
        x = relu(bn(conv(x, head_channels, 1, 1, "cls_head.0", use_bias=True), "cls_head.1"))
        x = keras.layers.Multiply()([x, spatial_attention(x)])
        part_logits = conv(x, part_num, 1, 1, "part_cls_layer", use_bias=True)
        y_part, y_global, y_fore = PartPooling()([x, part_logits])
        feats, logits = zip(*(bnneck(y, num_classes, n) for y, n in ((y_part, "part"), (y_global, "global"), (y_fore, "fore"))), strict=False)
        features = keras.layers.Concatenate()(list(feats))
        outputs = {
            "embedding": L2Normalize()(features), "features": features, "part_logits": part_logits,
            "feature_map": x, "visibility": PartVisibility()(part_logits),
            "y_part": y_part, "y_global": y_global, "y_fore": y_fore,
            "logits_part": logits[0], "logits_global": logits[1], "logits_fore": logits[2],
        }
        super().__init__(inputs=images, outputs=outputs, **kwargs)

    def serving_model(self) -> keras.Model:
        """image -> {embedding, part_map (softmax part probabilities), visibility}: the served graph."""
        probs = keras.layers.Softmax(axis=-1)(self.output["part_logits"])
        return keras.Model(self.input, {"embedding": self.output["embedding"], "part_map": probs,
                                        "visibility": self.output["visibility"]}, name="isp_inference")

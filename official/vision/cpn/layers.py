"""CPN heads as functional blocks: cascade corner pooling, heatmap/offset heads, stage-2 branches.

Structures from CPNDet's models/{DLA34,HG104,HG52}.py (facts, own code):
- cascade corner pooling (`pool`): for the top-left corner, a "look" conv (3x3 + BN + ReLU) is
  left-pooled and added to a second 3x3 conv branch, a 3x3 conv (no BN) on the sum is top-pooled;
  symmetrically a top-pooled look branch feeds a left pool; the two pooled maps are summed, 3x3 conv +
  BN, added to a 1x1 conv + BN shortcut of the input, ReLU, then 3x3 conv + BN + ReLU. Inner width 64
  (DLA-34) or 128 (hourglass); bottom-right uses bottom/right pools.
- heads (`make_kp_layer`): 3x3 conv (with bias) + ReLU + 1x1 conv; heatmap bias -2.19.
- stage-2 feature branches (`regionconv`): DLA-34 one 3x3 conv + BN + ReLU; hourglass two of them,
  each followed by an extra BN (and ReLU after the first), as released.
- stage-2 classifiers (`*_reduces`): a 7x7 valid conv on the 7x7 RoI features (+ BN for hourglass,
  bias for DLA-34), ReLU, 1x1 conv to the logits with bias -2.19.
"""

from __future__ import annotations

import keras
from keras import layers

from official.ops.corner_pool import CornerPool

HEATMAP_BIAS = -2.19  # CornerNet/CPN: sigmoid(-2.19) ~ 0.1 prior for every heatmap and classifier logit


def conv_bn_relu(x, filters: int, name: str, bn: dict, kernel: int = 3, relu: bool = True):
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", **bn)(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def cascade_corner_pool(x, inner: int, first: str, second: str, name: str, bn: dict):
    """CPN `pool(dim, pool1=first, pool2=second)`; first/second = ("top", "left") or ("bottom", "right")."""
    dim = x.shape[-1]
    look1 = conv_bn_relu(x, inner, f"{name}_look1", bn)
    p1 = conv_bn_relu(x, inner, f"{name}_p1", bn)
    look_second = CornerPool(second, name=f"{name}_look1_{second}")(look1)
    p1 = layers.Add(name=f"{name}_p1_sum")([p1, look_second])
    p1 = layers.Conv2D(inner, 3, padding="same", use_bias=False, name=f"{name}_p1_look_conv")(p1)
    pool1 = CornerPool(first, name=f"{name}_pool_{first}")(p1)
    look2 = conv_bn_relu(x, inner, f"{name}_look2", bn)
    p2 = conv_bn_relu(x, inner, f"{name}_p2", bn)
    look_first = CornerPool(first, name=f"{name}_look2_{first}")(look2)
    p2 = layers.Add(name=f"{name}_p2_sum")([p2, look_first])
    p2 = layers.Conv2D(inner, 3, padding="same", use_bias=False, name=f"{name}_p2_look_conv")(p2)
    pool2 = CornerPool(second, name=f"{name}_pool_{second}")(p2)
    merged = layers.Add(name=f"{name}_pools")([pool1, pool2])
    merged = conv_bn_relu(merged, dim, f"{name}_merge", bn, relu=False)
    shortcut = conv_bn_relu(x, dim, f"{name}_shortcut", bn, kernel=1, relu=False)
    y = layers.ReLU(name=f"{name}_relu")(layers.Add(name=f"{name}_add")([merged, shortcut]))
    return conv_bn_relu(y, dim, f"{name}_out", bn)


def prediction_head(x, hidden: int, outputs: int, name: str, bias: float = 0.0):
    """3x3 conv (bias) + ReLU + 1x1 conv with a constant bias; float32 logits."""
    x = layers.Conv2D(hidden, 3, padding="same", name=f"{name}_conv")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    return layers.Conv2D(
        outputs, 1, bias_initializer=keras.initializers.Constant(bias), dtype="float32", name=f"{name}_out"
    )(x)


def feature_branch(x, filters: int, convs: int, name: str, bn: dict):
    """Stage-2 feature map: DLA-34 style (convs=1) or hourglass style (convs=2, extra BNs)."""
    if convs == 1:
        return conv_bn_relu(x, filters, f"{name}_1", bn)
    if convs != 2:
        raise ValueError(f"feature_branch: convs must be 1 or 2, got {convs}")
    width = x.shape[-1]
    x = conv_bn_relu(x, width, f"{name}_1", bn)
    x = layers.ReLU(name=f"{name}_1_relu2")(layers.BatchNormalization(name=f"{name}_1_bn2", **bn)(x))
    x = conv_bn_relu(x, filters, f"{name}_2", bn)
    return layers.BatchNormalization(name=f"{name}_2_bn2", **bn)(x)


def roi_classifier(roi_size: int, channels: int, hidden: int, outputs: int, with_bn: bool, name: str, bn: dict) -> keras.Model:
    """(N, roi, roi, channels) RoI features -> (N, outputs) logits (7x7 valid conv, ReLU, 1x1 conv)."""
    inputs = keras.Input((roi_size, roi_size, channels), name=f"{name}_rois")
    x = layers.Conv2D(hidden, roi_size, padding="valid", use_bias=not with_bn, name=f"{name}_reduce")(inputs)
    if with_bn:
        x = layers.BatchNormalization(name=f"{name}_reduce_bn", **bn)(x)
    x = layers.ReLU(name=f"{name}_reduce_relu")(x)
    x = layers.Conv2D(
        outputs, 1, bias_initializer=keras.initializers.Constant(HEATMAP_BIAS), dtype="float32", name=f"{name}_logits"
    )(x)
    x = layers.Reshape((outputs,), name=f"{name}_flatten")(x)
    return keras.Model(inputs, x, name=name)


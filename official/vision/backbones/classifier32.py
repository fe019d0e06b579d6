"""The 9-conv "classifier32" trunk of the open-set literature (OSRCI, ARPL/RPL, OpenHybrid), channels-last.

The ARPL repository's `models/models.py` `classifier32` (Neal et al.'s OSRCI network), shared so that
open-set methods compare on the same encoder:
- SpatialDropout2D(0.2) (PyTorch Dropout2d) before conv1 (on the input image), conv4 and conv7;
- nine 3x3 convs without bias, widths 64, 64, 128 | 128, 128, 128 | 128, 128, 128, stride 2 on
  conv3, conv6 and conv9, each followed by BN and LeakyReLU(0.2);
- a 32x32 image becomes a (4, 4, 128) map (64x64 Tiny ImageNet: (8, 8, 128)).
Strided convs pad one pixel explicitly, as PyTorch's padding=1 does, so official weights map one to one
(Keras "same" would pad 0 before and 1 after). Initialisation follows the repo's `weights_init`: conv
N(0, 0.05), BN gamma N(1, 0.02), beta 0; BN momentum 0.9 / epsilon 1e-5 are PyTorch's defaults.
Trainable parameters: 997,056 conv + 2,048 BN = 999,104 (the PyTorch module also declares a bn10 that
its forward never uses: 256 more).
"""

from __future__ import annotations

from keras import initializers, layers

CLASSIFIER32_WIDTHS = (64, 64, 128, 128, 128, 128, 128, 128, 128)
CLASSIFIER32_STRIDED = (3, 6, 9)  # 1-based conv indices with stride 2
CLASSIFIER32_DROPOUT_BEFORE = (1, 4, 7)  # 1-based conv indices preceded by spatial dropout


def classifier32_trunk(x, dropout_rate: float = 0.2, name: str = "", widths: tuple[int, ...] = CLASSIFIER32_WIDTHS):
    """(B, H, W, 3) images -> (B, H/8, W/8, widths[-1]) features; layers `{name}conv1..9`, `{name}bn1..9`.

    `widths`: the nine conv widths (the paper's network: CLASSIFIER32_WIDTHS; tests pass narrow ones).
    """
    if len(widths) != len(CLASSIFIER32_WIDTHS):
        raise ValueError(f"classifier32_trunk: widths needs {len(CLASSIFIER32_WIDTHS)} values, got {tuple(widths)}")
    for i, width in enumerate(widths, start=1):
        if i in CLASSIFIER32_DROPOUT_BEFORE and dropout_rate > 0:
            x = layers.SpatialDropout2D(dropout_rate, name=f"{name}dropout{i}")(x)
        stride = 2 if i in CLASSIFIER32_STRIDED else 1
        if stride > 1:
            x = layers.ZeroPadding2D(1, name=f"{name}pad{i}")(x)
        x = layers.Conv2D(
            width, 3, strides=stride, padding="valid" if stride > 1 else "same", use_bias=False,
            kernel_initializer=initializers.RandomNormal(0.0, 0.05), name=f"{name}conv{i}",
        )(x)
        x = layers.BatchNormalization(
            momentum=0.9, epsilon=1e-5, gamma_initializer=initializers.RandomNormal(1.0, 0.02), name=f"{name}bn{i}"
        )(x)
        x = layers.LeakyReLU(0.2, name=f"{name}lrelu{i}")(x)
    return x

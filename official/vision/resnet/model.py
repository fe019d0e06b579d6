"""ResNet classifiers (He et al., CVPR 2016): torchvision's ImageNet ResNets and the CIFAR ResNets.

`ResNet`: torchvision's `resnet18/34/50/101` layout (7x7/2 stem, 3x3/2 max-pool, four stages of
BasicBlocks or v1.5 Bottlenecks, global average pool, fc), built on the shared trunk of
official/vision/backbones/resnet.py; BatchNorm eps 1e-5 and momentum 0.9 (PyTorch's 0.1), as torchvision.
ResNet-50: 25,557,032 trainable parameters (= torchvision's `sum(p.numel() for p in parameters())`).

`CifarResNet`: the paper's CIFAR-10 networks (Sec. 4.2; Idelbayev's resnet_cifar.py, which Side-Tuning's
tlkit/models/resnet_cifar.py adapts): 3x3 conv to 16 channels, three stages of n BasicBlocks (16, 32, 64
channels; stride 2 at the first block of stages 2 and 3) with the parameter-free option A shortcut,
global average pool, linear. Depth 6n + 2: ResNet-20 (n=3) 269,722, ResNet-44 (n=7) 658,586 (657,936
without the linear: Side-Tuning's frozen base), ResNet-56 (n=9) 853,018 trainable parameters.
With shortcut="projection" (DSA's `dsconv` models: 1x1/2 conv + BN on the first block of stages 2 and 3)
ResNet-20 has 272,474 and ResNet-56 855,770.

Both take normalised float images (batch, height, width, 3) and return logits (batch, classes), or with
include_top=False the pooled feature (batch, 2048 / 512 / 64) (pooling="avg"; None keeps the feature map).
`feature_model()` gives the pooled-feature model sharing the weights of a model built with include_top.
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel
from official.vision.backbones.resnet import (
    BOTTLENECK_EXPANSION,
    RESNET_BLOCK_KIND,
    RESNET_BLOCKS,
    RESNET_WIDTHS,
    _conv_bn,
    basic_block,
    resnet_trunk,
)

CIFAR_WIDTHS = (16, 32, 64)  # He et al. 2016, Sec. 4.2: {16, 32, 64} filters on 32/16/8 px maps


def _head(x, classes: int, include_top: bool, pooling: str | None):
    """Global average pool + Dense logits, or the pooled / unpooled feature."""
    if include_top or pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling is not None:
        raise ValueError(f"pooling must be 'avg' or None, got {pooling!r}")
    if include_top:
        x = layers.Dense(classes, name="logits", dtype="float32")(x)
    return x


class _FeatureAccess:
    def feature_model(self) -> keras.Model:
        """A model of the same inputs and weights that returns the pooled feature (batch, channels)."""
        return keras.Model(self.inputs, self.get_layer("avg_pool").output, name=f"{self.name}_features")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ResNet(_FeatureAccess, ZooModel):
    """ImageNet ResNet in torchvision's layout.

    Args:
        depth: 18, 34 (BasicBlock) or 50, 101 (Bottleneck); block counts of He et al. Table 1.
        classes: classifier outputs when include_top.
        input_shape: (height, width, 3).
        include_top: global average pool + Dense(classes) logits.
        pooling: "avg" or None, applied when include_top is False.
        bn_momentum: BatchNorm moving-average momentum (Keras convention: 0.9 = PyTorch 0.1).
        bn_epsilon: BatchNorm epsilon (PyTorch's 1e-5).
    """

    def __init__(
        self,
        depth: int = 50,
        classes: int = 1000,
        input_shape: tuple[int, int, int] = (224, 224, 3),
        include_top: bool = True,
        pooling: str | None = "avg",
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        **kwargs,
    ):
        if depth not in RESNET_BLOCKS:
            raise ValueError(f"ResNet: depth must be one of {sorted(RESNET_BLOCKS)}, got {depth}")
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        inputs = keras.Input(shape=tuple(input_shape), name="images")
        x = resnet_trunk(inputs, RESNET_BLOCKS[depth], RESNET_WIDTHS, 64, bn, "resnet", RESNET_BLOCK_KIND[depth])["C5"]
        super().__init__(inputs=inputs, outputs=_head(x, classes, include_top, pooling), **kwargs)

    @property
    def feature_channels(self) -> int:
        expansion = BOTTLENECK_EXPANSION if RESNET_BLOCK_KIND[self.constructor_args["depth"]] == "bottleneck" else 1
        return RESNET_WIDTHS[-1] * expansion


@keras.saving.register_keras_serializable(package="eccv20zoo")
class CifarResNet(_FeatureAccess, ZooModel):
    """CIFAR ResNet of depth 6n + 2 with option A (zero-padding) shortcuts.

    Args:
        blocks_per_stage: n, the BasicBlocks in each of the three stages (3: ResNet-20, 7: -44, 9: -56).
        classes: classifier outputs when include_top.
        input_shape: (height, width, 3).
        include_top: global average pool + Dense(classes) logits (the authors' `linear`).
        pooling: "avg" or None, applied when include_top is False ("avg": the 64-d feature Side-Tuning uses).
        widths: channels of the three stages.
        bn_momentum: BatchNorm moving-average momentum (Keras convention: 0.9 = PyTorch 0.1).
        bn_epsilon: BatchNorm epsilon (PyTorch's 1e-5).
        shortcut: "zero_pad" (option A) or "projection" (1x1 conv + BN where the shape changes: DSA's
            released `cifar10_resnet{20,56}_dsconv` models, whose `skip_op` is conv -> BN without ReLU).
    """

    def __init__(
        self,
        blocks_per_stage: int = 3,
        classes: int = 10,
        input_shape: tuple[int, int, int] = (32, 32, 3),
        include_top: bool = True,
        pooling: str | None = "avg",
        widths: tuple[int, int, int] = CIFAR_WIDTHS,
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        shortcut: str = "zero_pad",
        **kwargs,
    ):
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        inputs = keras.Input(shape=tuple(input_shape), name="images")
        x = _conv_bn(inputs, widths[0], 3, 1, "resnet_stem", bn, relu=True)
        for stage, width in enumerate(widths):
            for i in range(blocks_per_stage):
                stride = 2 if (i == 0 and stage > 0) else 1
                x = basic_block(x, width, stride, f"resnet_layer{stage + 1}_{i}", bn, shortcut=shortcut)
        super().__init__(inputs=inputs, outputs=_head(x, classes, include_top, pooling), **kwargs)

    @property
    def depth(self) -> int:
        return 6 * self.constructor_args["blocks_per_stage"] + 2

"""Bi-Real-style binary ResNets of ProxyBNN (He et al., ECCV 2020): ResNet-18 (ImageNet, CIFAR), ResNet-20.

The paper's exact networks are not published with code; this is the spec card's reconstruction
(standard BNN practice, Liu et al. Bi-Real Net, ECCV 2018):
- stem: real conv + BN, no ReLU (a ReLU would make every sign of the first block +1); ImageNet: 7x7/2
  conv and 3x3/2 max-pool; CIFAR: 3x3/1 conv.
- every 3x3 conv of a BasicBlock is its own binary unit with a real shortcut:
  y = BN(BinaryConv3x3(sign(x))) + shortcut(x), BN before the next sign;
- downsampling shortcut (stride 2 or new width): 2x2 average pool + real 1x1 conv + BN;
- global average pool + real Dense logits.
The conv and BN layout equals torchvision's ResNet-18, so the inference parameter count is the same
(11,689,512 at 1000 classes); training adds one P per binary conv (81 values each in the "spatial" option).

`mode` picks the conv of the binary units: "proxy" (training: latent A and proxy P), "binary" (the folded
inference network holding only W_b = alpha * sign(A P); see fold.py) or "real" (the full-precision twin:
the same graph with real convs and ReLU in place of sign, for the digits comparison).
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel
from official.vision.proxybnn.layers import BinaryConv2D, ProxyBinaryConv2D

MODES = ("proxy", "binary", "real")
STEMS = ("imagenet", "cifar")
RESNET18_BLOCKS = (2, 2, 2, 2)  # He et al. 2016 Table 1: BasicBlocks per stage of ResNet-18
RESNET18_WIDTHS = (64, 128, 256, 512)
RESNET20_BLOCKS = (3, 3, 3)  # He et al. 2016 Sec. 4.2, n = 3
RESNET20_WIDTHS = (16, 32, 64)


def _bn(x, name: str, bn: dict):
    return layers.BatchNormalization(name=name, **bn)(x)


def _shortcut(x, filters: int, stride: int, name: str, bn: dict):
    """Identity, or Bi-Real's downsample: avg-pool (when strided) + real 1x1 conv + BN."""
    if stride == 1 and x.shape[-1] == filters:
        return x
    if stride > 1:
        x = layers.AveragePooling2D(stride, strides=stride, padding="same", name=f"{name}_pool")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_conv")(x)
    return _bn(x, f"{name}_bn", bn)


def binary_unit(x, filters: int, stride: int, name: str, bn: dict, mode: str, binary: dict):
    """y = BN(BinaryConv3x3(sign(x))) + shortcut(x) (mode "real": BN(Conv3x3(ReLU(x))) + shortcut(x))."""
    if mode == "proxy":
        y = ProxyBinaryConv2D(filters, 3, stride, name=f"{name}_conv", **binary)(x)
    elif mode == "binary":
        keep = ("binary_activations", "pad_value")
        y = BinaryConv2D(filters, 3, stride, name=f"{name}_conv", **{k: binary[k] for k in keep})(x)
    else:
        y = layers.ReLU(name=f"{name}_relu")(x)
        y = layers.Conv2D(filters, 3, stride, padding="same", use_bias=False, name=f"{name}_conv")(y)
    y = _bn(y, f"{name}_bn", bn)
    return layers.Add(name=f"{name}_add")([y, _shortcut(x, filters, stride, f"{name}_down", bn)])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class BinaryResNet(ZooModel):
    """Bi-Real-style binary ResNet with ProxyBNN binary convs.

    Args:
        blocks: BasicBlocks per stage (two binary units each); (2, 2, 2, 2) ResNet-18, (3, 3, 3) ResNet-20.
        widths: channels per stage.
        stem: "imagenet" (7x7/2 conv + 3x3/2 max-pool) or "cifar" (3x3/1 conv); width = widths[0].
        classes: logits.
        input_shape: (height, width, 3).
        mode: "proxy" (A, P; training), "binary" (W_b only; inference) or "real" (full-precision twin).
        proxy: "spatial" or "input" (see ProxyBinaryConv2D).
        proxy_trainable: False freezes every P at the identity (the plain-BNN baseline).
        binary_activations: 1-bit activations (False: binary weights only).
        activation_grad: "ste" or "approx" (Bi-Real's polynomial sign gradient).
        weight_clip: clip the weights' straight-through gradient to |W_r| <= 1.
        pad_value: 0, 1 or -1, the binary convs' "same" padding of the signed input.
        bn_momentum: BatchNorm moving-average momentum (Keras convention).
        bn_epsilon: BatchNorm epsilon.
    """

    def __init__(
        self,
        blocks: tuple[int, ...] = RESNET18_BLOCKS,
        widths: tuple[int, ...] = RESNET18_WIDTHS,
        stem: str = "imagenet",
        classes: int = 1000,
        input_shape: tuple[int, int, int] = (224, 224, 3),
        mode: str = "proxy",
        proxy: str = "spatial",
        proxy_trainable: bool = True,
        binary_activations: bool = True,
        activation_grad: str = "ste",
        weight_clip: bool = False,
        pad_value: int = 0,
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        **kwargs,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if stem not in STEMS:
            raise ValueError(f"stem must be one of {STEMS}, got {stem!r}")
        if len(blocks) != len(widths):
            raise ValueError(f"blocks and widths must have the same length, got {blocks} and {widths}")
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        binary = {"proxy": proxy, "proxy_trainable": proxy_trainable, "binary_activations": binary_activations,
                  "activation_grad": activation_grad, "weight_clip": weight_clip, "pad_value": pad_value}
        inputs = keras.Input(shape=tuple(input_shape), name="images")
        if stem == "imagenet":
            x = layers.Conv2D(widths[0], 7, 2, padding="same", use_bias=False, name="stem_conv")(inputs)
            x = _bn(x, "stem_bn", bn)
            x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
        else:
            x = layers.Conv2D(widths[0], 3, 1, padding="same", use_bias=False, name="stem_conv")(inputs)
            x = _bn(x, "stem_bn", bn)
        for s, (count, width) in enumerate(zip(blocks, widths, strict=True)):
            for b in range(count):
                stride = 2 if (b == 0 and s > 0) else 1
                x = binary_unit(x, width, stride, f"stage{s + 1}_block{b}_unit0", bn, mode, binary)
                x = binary_unit(x, width, 1, f"stage{s + 1}_block{b}_unit1", bn, mode, binary)
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        outputs = layers.Dense(classes, name="logits", dtype="float32")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def proxy_layers(self) -> list[ProxyBinaryConv2D]:
        return [layer for layer in self.layers if isinstance(layer, ProxyBinaryConv2D)]

    def operation_counts(self) -> dict[str, int]:
        """The BNN cost metric of the card: BOPs (multiply-accumulates of the binary convs), FLOPs (those
        of the real convs and the fc) and OPs = BOPs / 64 + FLOPs (Bi-Real / XNOR-Net convention; BN,
        pooling and adds not counted)."""
        bops = flops = 0
        for layer in self.layers:
            if isinstance(layer, (ProxyBinaryConv2D, BinaryConv2D, layers.Conv2D)):
                _, h, w, cout = layer.output.shape
                kh, kw = (layer.kernel_size,) * 2 if isinstance(layer.kernel_size, int) else layer.kernel_size
                macs = h * w * kh * kw * layer.input.shape[-1] * cout
                binary = not isinstance(layer, layers.Conv2D) and layer.binary_activations
                bops, flops = (bops + macs, flops) if binary else (bops, flops + macs)
            elif isinstance(layer, layers.Dense):
                flops += layer.input.shape[-1] * layer.units
        return {"bops": int(bops), "flops": int(flops), "ops": int(bops // 64 + flops)}

    def export_model(self) -> keras.Model:
        """The network `tools.export` serves: the folded BNN (W_b only) of a "proxy" model, else itself."""
        if self.constructor_args["mode"] != "proxy":
            return self
        from official.vision.proxybnn.fold import fold

        return fold(self)

"""The ResNet generator of CycleGAN (Zhu et al. 2017; junyanz/pytorch-CycleGAN-and-pix2pix `ResnetGenerator`),
the translation network Sketch2Photo's first stage and ForkGAN build on.

reflect-pad 3, conv7x7 (filters), IN, ReLU; `downsamplings` x [conv3x3 stride 2 (x2 filters), IN, ReLU];
`blocks` residual blocks [reflect-pad 1, conv3x3, IN, ReLU, reflect-pad 1, conv3x3, IN] + identity;
`downsamplings` x [transposed conv3x3 stride 2 (/2 filters), IN, ReLU]; reflect-pad 3, conv7x7
(output_channels), tanh. Convolutions have biases (the official code adds them when the norm is instance
norm); instance norm has no affine parameters. resnet_9blocks at 3 -> 3 channels: 11,378,179 parameters.
Padding follows the official layers exactly (see `_conv_norm_relu`), so converted weights give the same
outputs (tests/official/vision/test_gan_networks.py compares with a torch build of the same network).
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel
from official.vision.gan.layers import ReflectionPad2D, instance_norm


def _conv_norm_relu(x, filters: int, kernel: int, name: str, strides: int = 1, transpose: bool = False):
    """conv + IN + ReLU aligned with torch: a stride-2 conv sees the input zero-padded by 1 on every side
    (torch padding=1; Keras "same" would pad only after), and a stride-2 transposed conv drops the first
    row and column of its "valid" output (torch padding=1, output_padding=1)."""
    if transpose:
        x = layers.Conv2DTranspose(filters, kernel, strides=strides, padding="valid", name=f"{name}_conv")(x)
        x = layers.Cropping2D(((1, 0), (1, 0)), name=f"{name}_crop")(x)
    else:
        if strides > 1:
            x = layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
        x = layers.Conv2D(filters, kernel, strides=strides, padding="valid", name=f"{name}_conv")(x)
    return layers.ReLU(name=f"{name}_relu")(instance_norm(f"{name}_norm")(x))


def resnet_blocks(x, width: int, blocks: int, prefix: str = "block"):
    """`blocks` residual blocks [reflect-pad 1, conv3x3, IN, ReLU, reflect-pad 1, conv3x3, IN] + identity
    (also Sketch2Photo's stage-2 decoder, which starts here)."""
    for i in range(blocks):
        name = f"{prefix}{i + 1}"
        y = ReflectionPad2D(1, name=f"{name}_pad1")(x)
        y = _conv_norm_relu(y, width, 3, f"{name}_a")
        y = ReflectionPad2D(1, name=f"{name}_pad2")(y)
        y = layers.Conv2D(width, 3, name=f"{name}_b_conv")(y)
        y = instance_norm(f"{name}_b_norm")(y)
        x = layers.Add(name=f"{name}_add")([x, y])
    return x


def resnet_encoder(inputs, filters: int, downsamplings: int):
    """reflect-pad 3, conv7x7, IN, ReLU, then the stride-2 down-samplings; returns (features, width)."""
    x = ReflectionPad2D(3, name="stem_pad")(inputs)
    x = _conv_norm_relu(x, filters, 7, "stem")
    width = filters
    for i in range(downsamplings):
        width *= 2
        x = _conv_norm_relu(x, width, 3, f"down{i + 1}", strides=2)
    return x, width


def resnet_decoder(x, width: int, downsamplings: int, output_channels: int):
    """The transposed-conv up-samplings, reflect-pad 3, conv7x7 (output_channels), tanh (float32 output)."""
    for i in range(downsamplings):
        width //= 2
        x = _conv_norm_relu(x, width, 3, f"up{i + 1}", strides=2, transpose=True)
    x = ReflectionPad2D(3, name="head_pad")(x)
    x = layers.Conv2D(output_channels, 7, name="head_conv")(x)
    return layers.Activation("tanh", name="image_out", dtype="float32")(x)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ResnetGenerator(ZooModel):
    """(batch, H, W, input_channels) in [-1, 1] -> (batch, H, W, output_channels) in [-1, 1]; H, W divisible
    by 2 ** downsamplings."""

    def __init__(self, input_channels: int = 3, output_channels: int = 3, filters: int = 64, blocks: int = 9,
                 downsamplings: int = 2, image_size: tuple[int, int] = (256, 256), **kwargs):
        inputs = keras.Input(shape=(*tuple(image_size), input_channels), name="image")
        x, width = resnet_encoder(inputs, filters, downsamplings)
        x = resnet_blocks(x, width, blocks)
        outputs = resnet_decoder(x, width, downsamplings, output_channels)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

"""Sketch2Photo networks (Liu et al., ECCV 2020); official code rt219/Unsupervised-Sketch-to-Photo-Synthesis.

- `Sketch2PhotoGenerator`: stage 1, CycleGAN's resnet_9blocks at 1 -> 1 channel (the shared blocks of
  official/vision/gan/resnet_generator.py) with the distraction-attention gate of G_A between the encoder
  and the residual blocks: features * (1 - w), w from a 1x1 conv 256 -> 2. `attention="height_legacy"`
  is what the official code computes (softmax over the HEIGHT axis of logit 0, logit 1 unused);
  `"channel"` the intended softmax over the two logits; `""` no gate (G_B). 11,366,147 parameters for G_A.
- `normalised_vgg`: stage 2's frozen encoder, the "normalised VGG-19" of AdaIN up to relu3_4 (1x1 conv
  3 -> 3, then reflect-padded 3x3 convs, max pools), from a weights file (`vgg_weights`).
- `Colorizer`: stage 2, that encoder + a trainable decoder (12 residual blocks at 256 ch, two up-samplings,
  conv7x7 -> RGB, tanh; 14,540,163 parameters); `decode(features)` and AdaIN with a reference in objective.py.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer, ZooModel
from official.vision.gan.layers import ReflectionPad2D
from official.vision.gan.resnet_generator import resnet_blocks, resnet_decoder, resnet_encoder

ATTENTION_MODES = ("", "height_legacy", "channel")
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu3_4")


def _softmax(x, axis: int):
    """Softmax from max / exp / sum: TFLite's SOFTMAX op normalises the last axis only, and the converter
    lowered ops.softmax(axis=1) to a wrong graph (max |difference| 1.9 against Keras)."""
    e = ops.exp(x - ops.max(x, axis=axis, keepdims=True))
    return e / ops.sum(e, axis=axis, keepdims=True)


def distraction_weight(logits, mode: str):
    """(B, h, w, 2) logits -> (B, h, w, 1) weight w in [0, 1] (the share of a feature to suppress)."""
    if mode == "height_legacy":  # torch nn.Softmax() with implicit dim on (B, h, w, 2) normalises dim 1 = height
        return _softmax(logits[..., :1], axis=1)
    if mode == "channel":
        return _softmax(logits, axis=-1)[..., :1]
    raise ValueError(f"attention: expected one of {ATTENTION_MODES[1:]}, got {mode!r}")


@keras.saving.register_keras_serializable("eccv20_zoo")
class DistractionAttention(ZooLayer):
    """x -> (x * (1 - w), w) with w from a 1x1 conv (-> 2 logits, with bias) and `distraction_weight`."""

    def __init__(self, mode: str = "height_legacy", **kwargs):
        super().__init__(**kwargs)
        if mode not in ATTENTION_MODES[1:]:
            raise ValueError(f"attention: expected one of {ATTENTION_MODES[1:]}, got {mode!r}")
        self.mode = mode
        self.logits = layers.Conv2D(2, 1, name="logits")

    def build(self, input_shape):
        self.logits.build(input_shape)

    def call(self, x):
        w = distraction_weight(self.logits(x), self.mode)
        return x * (1.0 - ops.cast(w, x.dtype)), w

    def compute_output_shape(self, input_shape):
        return input_shape, (*input_shape[:-1], 1)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Sketch2PhotoGenerator(ZooModel):
    """(B, H, W, input_channels) in [-1, 1] -> (B, H, W, output_channels); stage-1 G_A (attention) or G_B ("")."""

    def __init__(self, input_channels: int = 1, output_channels: int = 1, filters: int = 64, blocks: int = 9,
                 downsamplings: int = 2, image_size: tuple[int, int] = (128, 128), attention: str = "height_legacy",
                 **kwargs):
        if attention not in ATTENTION_MODES:
            raise ValueError(f"attention: expected one of {ATTENTION_MODES}, got {attention!r}")
        inputs = keras.Input(shape=(*tuple(image_size), input_channels), name="image")
        x, width = resnet_encoder(inputs, filters, downsamplings)
        if attention:
            x, _ = DistractionAttention(attention, name="attention")(x)
        x = resnet_blocks(x, width, blocks)
        outputs = resnet_decoder(x, width, downsamplings, output_channels)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def attention_model(self) -> keras.Model:
        """image -> the (B, H/4, W/4, 1) distraction weight w (G_A only)."""
        return keras.Model(self.inputs, self.get_layer("attention").output[1], name="attention_map")


def normalised_vgg(image_size: tuple[int, int] = (128, 128), outputs: tuple[str, ...] = STYLE_LAYERS,
                   weights: str = "") -> keras.Model:
    """AdaIN's normalised VGG-19 to relu3_4 (2,325,580 parameters), frozen; (B, H, W, 3) -> [maps of `outputs`].

    Inputs go in as given (stage 2 feeds the [-1, 1] gray image replicated to 3 channels; the 1x1 conv
    holds the weights' own preprocessing). Max pools are 2x2 stride 2 (torch ceil_mode only differs on odd
    sizes, which the stride-4 decoder refuses anyway). Without `weights` the 3x3 kernels are He-normal, so
    random features keep their scale through the 8 ReLU convs (Glorot's shrink ~2x per conv: relu3_4 came out
    ~1e-3, which made the stage-2 content and style losses vanish on a random encoder)."""
    inputs = keras.Input((*tuple(image_size), 3), name="image")
    x = layers.Conv2D(3, 1, name="conv0")(inputs)
    found = {}
    for block, convs in ((1, 2), (2, 2), (3, 4)):
        if block > 1:
            x = layers.MaxPooling2D(2, name=f"pool{block - 1}")(x)
        for i in range(1, convs + 1):
            x = ReflectionPad2D(1, name=f"pad{block}_{i}")(x)
            x = layers.Conv2D(64 * 2 ** (block - 1), 3, activation="relu", kernel_initializer="he_normal",
                              name=f"conv{block}_{i}")(x)
            found[f"relu{block}_{i}"] = x
    model = keras.Model(inputs, [found[name] for name in outputs], name="normalised_vgg")
    if weights:
        model.load_weights(weights)
    model.trainable = False
    return model


def colorizer_decoder(feature_shape: tuple[int, int, int], blocks: int = 12, output_channels: int = 3) -> keras.Model:
    """(B, h, w, C) relu3_4 features -> (B, 4h, 4w, 3) in [-1, 1]: the second half of resnet_12blocks."""
    inputs = keras.Input(feature_shape, name="features")
    x = resnet_blocks(inputs, feature_shape[-1], blocks)
    return keras.Model(inputs, resnet_decoder(x, feature_shape[-1], 2, output_channels), name="decoder")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Colorizer(ZooModel):
    """Stage 2: (B, H, W, 3) gray image replicated to 3 channels in [-1, 1] -> (B, H, W, 3) RGB in [-1, 1].

    Trainable: the decoder only (the VGG encoder is frozen). `vgg_weights`: a Keras weights file of
    `normalised_vgg` (tools.convert_checkpoint writes one from AdaIN's vgg_normalised.pth); "" = random."""

    def __init__(self, image_size: tuple[int, int] = (128, 128), blocks: int = 12, vgg_weights: str = "", **kwargs):
        image_size = tuple(image_size)
        if image_size[0] % 4 or image_size[1] % 4:
            raise ValueError(f"image_size {image_size}: the colouriser needs sides divisible by 4")
        encoder = normalised_vgg(image_size, STYLE_LAYERS, vgg_weights)
        decoder = colorizer_decoder((image_size[0] // 4, image_size[1] // 4, 256), blocks)
        inputs = keras.Input((*image_size, 3), name="image")
        outputs = decoder(encoder(inputs)[-1])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    @property
    def encoder(self) -> keras.Model:
        return self.get_layer("normalised_vgg")

    @property
    def decoder(self) -> keras.Model:
        return self.get_layer("decoder")

"""TSIT networks (Jiang et al., ECCV 2020; official EndlessSora/TSIT, spec card research tsit.md).

`TSITGenerator`: content stream + style stream (AST/MMIS) or content stream alone on a label map (SIS),
and the coarse-to-fine FADE decoder. Inputs (channels-last):
- AST/MMIS: {"content": (B, H, W, 3), "style": (B, H, W, 3), "noise": (B, H/2^(L-1), W/2^(L-1), 3)};
- SIS: {"content": (B, H, W, semantic_nc)} plus {"z": (B, z_dim)} with the VAE.
Bottleneck noise (or z) is an explicit input, so exports are reproducible (card "Hard parts").
`levels` = stream blocks (8 in the paper, bottleneck H/128); tests use fewer to run at 32 px.
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel
from research.generative.tsit.layers import (
    AvgPoolExcludePad,
    FAdaIN,
    Subsample,
    conv,
    fade_block,
    instance_norm,
    stream_block,
    xavier,
)

WIDTH_MULTIPLIERS = (1, 2, 4, 8, 16, 16, 16, 16)  # stream blocks res_0..res_7 (x ngf); decoder mirrors them
# the official decoder's block name per content-stream level it is conditioned on (levels 7..1)
DECODER_NAMES = {7: "head_0", 6: "G_middle_0", 5: "G_middle_1", 4: "up_0", 3: "up_1", 2: "up_2", 1: "up_3"}


def stream_widths(ngf: int, levels: int) -> list[int]:
    return [ngf * WIDTH_MULTIPLIERS[min(k, len(WIDTH_MULTIPLIERS) - 1)] for k in range(levels)]


def stream(x, ngf: int, levels: int, prefix: str) -> list:
    """Features f0..f_{L-1} at strides 1..2^(L-1) (StreamResnetBlocks, "down" before blocks 2..L)."""
    widths, feats, fin = stream_widths(ngf, levels), [], x.shape[-1]
    for k, fout in enumerate(widths):
        if k:
            x = Subsample(name=f"{prefix}_down_{k}")(x)
        x = stream_block(x, fin, fout, f"{prefix}_res_{k}")
        feats.append(x)
        fin = fout
    return feats


def _level_name(k: int) -> str:
    return DECODER_NAMES.get(k, f"level_{k}")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class TSITGenerator(ZooModel):
    """mode "ast" (AST and MMIS: content + style + noise) or "sis" (label map [+ z]) -> (B, H, W, 3) in [-1, 1]."""

    def __init__(self, mode: str = "ast", ngf: int = 64, levels: int = 8, image_size: tuple[int, int] = (256, 256),
                 semantic_nc: int = 3, use_vae: bool = False, z_dim: int = 256, alpha: float = 1.0, **kwargs):
        if mode not in ("ast", "sis"):
            raise ValueError(f"mode: expected 'ast' or 'sis', got {mode!r}")
        h, w = (int(s) for s in image_size)
        scale = 2 ** (levels - 1)
        if h % scale or w % scale:
            raise ValueError(f"image_size {image_size}: both sides must be multiples of 2^(levels-1) = {scale}")
        sh, sw = h // scale, w // scale
        widths = stream_widths(ngf, levels)
        channels = semantic_nc if mode == "sis" else 3
        content = keras.Input((h, w, channels), name="content")
        inputs = {"content": content}
        c_feats = stream(content, ngf, levels, "content")
        s_feats = None
        if mode == "ast":
            inputs["style"] = keras.Input((h, w, 3), name="style")
            inputs["noise"] = keras.Input((sh, sw, 3), name="noise")
            s_feats = stream(inputs["style"], ngf, levels, "style")
            x = conv(widths[-1], 3, "fc", spectral=False)(inputs["noise"])
        elif use_vae:
            inputs["z"] = keras.Input((z_dim,), name="z")
            x = layers.Dense(widths[-1] * sh * sw, kernel_initializer=xavier(), name="fc")(inputs["z"])
            x = layers.Reshape((sh, sw, widths[-1]), name="fc_reshape")(x)
        else:  # the label map nearest-resized to the bottleneck (every scale-th pixel), then conv3x3
            x = layers.Resizing(sh, sw, interpolation="nearest", name="label_down")(content)
            x = conv(widths[-1], 3, "fc", spectral=False)(x)
        for k in range(levels - 1, 0, -1):
            if k < levels - 1:
                x = layers.UpSampling2D(2, name=f"up_{k}")(x)
            if s_feats is not None:
                x = FAdaIN(alpha, name=f"fadain_{k}")([x, s_feats[k]])
            x = fade_block(x, c_feats[k], widths[k], widths[k - 1], _level_name(k))
        x = layers.UpSampling2D(2, name="up_0")(x)
        x = conv(3, 3, "conv_img", spectral=False)(layers.LeakyReLU(0.2, name="act_img")(x))
        outputs = layers.Activation("tanh", name="image", dtype="float32")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.bottleneck = (sh, sw)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class TSITDiscriminator(ZooModel):
    """SPADE's multi-scale PatchGAN: num_d copies, the k-th on the input avg-pooled k times.

    Each: conv4x4 s2 (filters) LReLU; layers-1 x [conv4x4 (x2, max 512; stride 2, the last stride 1),
    spectral norm, IN, no bias, LReLU]; conv4x4 -> 1. torch padding 2 on every conv. Outputs: a flat list,
    per discriminator its `layers + 1` maps (intermediate features for feature matching, then logits);
    `split` regroups them."""

    def __init__(self, input_channels: int = 3, filters: int = 64, layers_count: int = 3, num_d: int = 2,
                 image_size: tuple[int, int] = (256, 256), **kwargs):
        inputs = keras.Input((*tuple(image_size), input_channels), name="image")
        outputs, x_in = [], inputs
        for d in range(num_d):
            if d:
                x_in = AvgPoolExcludePad(name=f"down_{d}")(x_in)
            x = layers.ZeroPadding2D(2, name=f"d{d}_pad0")(x_in)
            x = layers.Conv2D(filters, 4, strides=2, kernel_initializer=xavier(), name=f"d{d}_model0")(x)
            x = layers.LeakyReLU(0.2, name=f"d{d}_act0")(x)
            outputs.append(x)
            width = filters
            for n in range(1, layers_count):
                width = min(width * 2, 512)
                x = layers.ZeroPadding2D(2, name=f"d{d}_pad{n}")(x)
                x = conv(width, 4, f"d{d}_model{n}", use_bias=False, strides=1 if n == layers_count - 1 else 2,
                         padding="valid")(x)
                x = layers.LeakyReLU(0.2, name=f"d{d}_act{n}")(instance_norm(f"d{d}_norm{n}")(x))
                outputs.append(x)
            x = layers.ZeroPadding2D(2, name=f"d{d}_pad{layers_count}")(x)
            outputs.append(layers.Conv2D(1, 4, kernel_initializer=xavier(), name=f"d{d}_model{layers_count}",
                                         dtype="float32")(x))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.per_d = layers_count + 1

    def split(self, outputs: list) -> list[list]:
        return [list(outputs[i:i + self.per_d]) for i in range(0, len(outputs), self.per_d)]


@keras.saving.register_keras_serializable(package="eccv20zoo")
class TSITImageEncoder(ZooModel):
    """SPADE's ConvEncoder (SIS with VAE): image resized to 256x256, 6 stride-2 conv3x3 (spectral, IN, no bias)
    with LReLU between, LReLU, flatten (torch C,H,W order), fc_mu and fc_logvar -> z_dim. Returns [mu, logvar]."""

    def __init__(self, ndf: int = 64, z_dim: int = 256, image_size: tuple[int, int] = (256, 256),
                 encoder_size: int = 256, **kwargs):
        inputs = keras.Input((*tuple(image_size), 3), name="image")
        x = inputs
        if tuple(image_size) != (encoder_size, encoder_size):
            x = layers.Resizing(encoder_size, encoder_size, interpolation="bilinear", name="resize")(x)
        for i, mult in enumerate((1, 2, 4, 8, 8, 8)):
            if i:
                x = layers.LeakyReLU(0.2, name=f"act{i}")(x)
            x = layers.ZeroPadding2D(1, name=f"pad{i + 1}")(x)
            x = conv(ndf * mult, 3, f"layer{i + 1}", use_bias=False, strides=2, padding="valid")(x)
            x = instance_norm(f"norm{i + 1}")(x)
        x = layers.LeakyReLU(0.2, name="act6")(x)
        x = layers.Flatten(name="flatten")(layers.Permute((3, 1, 2), name="to_chw")(x))
        mu = layers.Dense(z_dim, kernel_initializer=xavier(), name="fc_mu", dtype="float32")(x)
        logvar = layers.Dense(z_dim, kernel_initializer=xavier(), name="fc_var", dtype="float32")(x)
        super().__init__(inputs=inputs, outputs=[mu, logvar], **kwargs)

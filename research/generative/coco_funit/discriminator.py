"""COCO-FUNIT's projection discriminator (imaginaire `discriminators/funit.py` ResDiscriminator, shared with
the improved FUNIT baseline); training only (it needs class labels), so it is not exported.

conv7x7 (f); `stages` x [2 pre-activation residual blocks (LReLU 0.2, conv3x3) x 2 + shortcut], the second
block of a stage doubling the width (capped at `max_filters`; a learned conv1x1 shortcut, with bias, when
the width changes); reflect-pad 1 + avg-pool 3x3 s2 between stages; classifier LReLU + conv1x1 -> 1.
Projection: logits += <embedding(label), mean_HW(features)>. Every conv is spectrally normalised
(keras.layers.SpectralNormalization: the power-iteration vector is a non-trainable weight).
Inputs {"image": (B, H, W, 3), "label": (B,) int}; outputs {"logits": (B, H/32, W/32, 1), "features": (B, C)}.
149 classes: 92,038,977 trainable parameters (spec card).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooModel
from official.vision.gan.layers import ReflectionPad2D


def sn_conv(x, filters: int, kernel: int, name: str, use_bias: bool = True, spectral: bool = True):
    if kernel > 1:
        x = ReflectionPad2D(kernel // 2, name=f"{name}_pad")(x)
    conv = layers.Conv2D(filters, kernel, use_bias=use_bias, name=f"{name}_conv")
    if spectral:
        conv = layers.SpectralNormalization(conv, name=f"{name}_sn")
    return conv(x)


def lrelu(x, name: str):
    return layers.LeakyReLU(0.2, name=name)(x)


def res_block(x, out: int, name: str, spectral: bool):
    """Pre-activation residual block: [LReLU conv3x3] x 2 (hidden = min(in, out)) + (conv1x1 shortcut if in != out)."""
    cin = x.shape[-1]
    y = sn_conv(lrelu(x, f"{name}_act1"), min(cin, out), 3, f"{name}_conv1", spectral=spectral)
    y = sn_conv(lrelu(y, f"{name}_act2"), out, 3, f"{name}_conv2", spectral=spectral)
    short = x if cin == out else sn_conv(x, out, 1, f"{name}_shortcut", spectral=spectral)
    return layers.Add(name=f"{name}_add")([short, y])


@keras.saving.register_keras_serializable("eccv20_zoo")
class Projection(keras.layers.Layer):
    """logits + <e_label, features> broadcast over the logit map."""

    def call(self, inputs):
        logits, embedding, features = inputs
        return logits + ops.sum(embedding * features, axis=-1)[:, None, None, None]


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ProjectionDiscriminator(ZooModel):
    def __init__(self, num_classes: int = 149, filters: int = 64, max_filters: int = 1024, stages: int = 6,
                 image_size: tuple[int, int] = (256, 256), spectral_norm: bool = True, **kwargs):
        image = keras.Input((*tuple(image_size), 3), name="image")
        label = keras.Input((), dtype="int32", name="label")
        x = sn_conv(image, filters, 7, "stem", spectral=spectral_norm)
        width = filters
        for i in range(stages):
            out = min(width * 2, max_filters)
            x = res_block(x, width, f"stage{i + 1}_block1", spectral_norm)
            x = res_block(x, out, f"stage{i + 1}_block2", spectral_norm)
            width = out
            if i != stages - 1:
                x = ReflectionPad2D(1, name=f"stage{i + 1}_pool_pad")(x)
                x = layers.AveragePooling2D(3, strides=2, name=f"stage{i + 1}_pool")(x)
        logits = sn_conv(lrelu(x, "classifier_act"), 1, 1, "classifier", spectral=spectral_norm)
        features = layers.GlobalAveragePooling2D(name="features")(x)
        embedding = layers.Embedding(num_classes, width, name="embedder")(label)
        logits = Projection(name="projection", dtype="float32")((logits, embedding, features))
        super().__init__(inputs={"image": image, "label": label},
                         outputs={"logits": logits, "features": layers.Activation("linear", dtype="float32",
                                                                                  name="features_out")(features)},
                         **kwargs)

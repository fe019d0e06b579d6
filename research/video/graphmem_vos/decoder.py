"""GraphMemVOS key/value heads and decoder (models/graph_memory.py `KeyValue`, `ASPP`, `ResBlock`, `Refine`,
`Decoder`), channels-last functional models.

- KeyValue: two 3x3 convs with bias on r4: key (Ck = 128) and value (Cv = 512); one head for memory frames,
  one for the query (5,898,880 parameters each at 1024 -> 128 / 512).
- Decoder(memory output (B, h, w, 2 Cv), r3 (B, 2h, 2w, C3), r2 (B, 4h, 4w, C2)) -> 2 logits at 4x r2's size:
  ASPP on the memory output (image-pool 1x1 + BN + ReLU broadcast back, a 1x1 branch and 3x3 branches at
  dilations 2 / 4 / 8, each `dim` + BN + ReLU; concat 5 x dim -> 3x3 conv to dim, no BN / ReLU after it),
  ResBlock, Refine(r3), Refine(r2), ReLU, 3x3 conv to 2, bilinear x4 (half-pixel, align_corners=False).
  18,230,786 parameters at dim 256 (the repo's Decoder(256)).
ResBlock(x) = x + conv(relu(conv(relu(x)))) (no BN). Refine(f, pm) = ResMM(ResFS(convFS(f)) + up2(pm)).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.ops.resize import upsample_bilinear

BN = {"momentum": 0.9, "epsilon": 1e-5}


@keras.saving.register_keras_serializable(package="eccv20zoo")
class BilinearUpsample(layers.Layer):
    """F.interpolate(scale_factor, bilinear, align_corners=False); traces with unknown frame sizes, which
    keras.layers.UpSampling2D does not (the inference loop's tf.function serves every video size)."""

    def __init__(self, factor: int, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return upsample_bilinear(x, self.factor)

    def compute_output_shape(self, shape):
        scale = lambda d: None if d is None else d * self.factor  # noqa: E731
        return (shape[0], scale(shape[1]), scale(shape[2]), shape[3])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def key_value_head(in_dim: int, key_dim: int, value_dim: int, name: str) -> keras.Model:
    """r4 (B, h, w, in_dim) -> (key (B, h, w, key_dim), value (B, h, w, value_dim))."""
    x = keras.Input((None, None, in_dim), name=f"{name}_r4")
    key = layers.Conv2D(key_dim, 3, padding="same", name=f"{name}_key")(x)
    value = layers.Conv2D(value_dim, 3, padding="same", name=f"{name}_value")(x)
    return keras.Model(x, [key, value], name=name)


def _res_block(x, dim: int, name: str):
    r = layers.Conv2D(dim, 3, padding="same", name=f"{name}_conv1")(layers.ReLU()(x))
    r = layers.Conv2D(dim, 3, padding="same", name=f"{name}_conv2")(layers.ReLU()(r))
    return layers.Add(name=f"{name}_add")([x, r])


def _conv_bn_relu(x, dim: int, kernel: int, dilation: int, name: str):
    x = layers.Conv2D(dim, kernel, padding="same", dilation_rate=dilation, name=name)(x)
    return layers.ReLU()(layers.BatchNormalization(name=f"{name}_bn", **BN)(x))


def _aspp(x, dim: int, dilations: tuple[int, ...], name: str):
    pooled = _conv_bn_relu(ops.mean(x, axis=(1, 2), keepdims=True), dim, 1, 1, f"{name}_pool")
    pooled = pooled * ops.ones_like(x[..., :1])  # bilinear upsampling of a 1x1 map = broadcast
    branches = [pooled, _conv_bn_relu(x, dim, 1, 1, f"{name}_conv0")]
    branches += [_conv_bn_relu(x, dim, 3, d, f"{name}_conv{i + 1}") for i, d in enumerate(dilations)]
    x = layers.Concatenate(name=f"{name}_concat")(branches)
    return layers.Conv2D(dim, 3, padding="same", name=f"{name}_bottleneck")(x)


def _refine(f, pm, dim: int, name: str):
    s = _res_block(layers.Conv2D(dim, 3, padding="same", name=f"{name}_convfs")(f), dim, f"{name}_resfs")
    up = BilinearUpsample(2, name=f"{name}_up")(pm)
    return _res_block(layers.Add(name=f"{name}_sum")([s, up]), dim, f"{name}_resmm")


def decoder(in_dim: int, r3_dim: int, r2_dim: int, dim: int = 256, dilations: tuple[int, ...] = (2, 4, 8),
            name: str = "decoder") -> keras.Model:
    """(memory output, r3, r2) -> logits (B, 16h, 16w, 2), channel 1 the object."""
    m4 = keras.Input((None, None, in_dim), name="memory_out")
    r3 = keras.Input((None, None, r3_dim), name="r3")
    r2 = keras.Input((None, None, r2_dim), name="r2")
    x = _res_block(_aspp(m4, dim, dilations, f"{name}_aspp"), dim, f"{name}_resmm")
    x = _refine(r3, x, dim, f"{name}_rf3")
    x = _refine(r2, x, dim, f"{name}_rf2")
    x = layers.Conv2D(2, 3, padding="same", name=f"{name}_pred")(layers.ReLU()(x))
    x = BilinearUpsample(4, name=f"{name}_up4")(x)
    return keras.Model([m4, r3, r2], x, name=name)

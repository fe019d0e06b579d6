"""The two U-Nets ConvONet runs on its feature planes and grids (shapes from `src/encoder/unet*.py`).

UNet2D (`src/encoder/unet.py`, jaxony's U-Net, merge 'concat', up 'transpose'): `depth` levels of
two 3x3 convs + ReLU with `start_filters * 2^i` channels, a 2x2 max-pool between levels; the decoder
upsamples by a 2x2 stride-2 transposed conv that halves the channels, concatenates [up, skip] and runs
two 3x3 convs + ReLU; a final 1x1 conv gives `out_channels`. Depth 4 at 32 filters: 1,934,976 weights.

UNet3D (`src/encoder/unet3d.py`, pytorch-3dunet UNet3D with layer order 'gcr'): every conv is
GroupNorm(8 groups, 1 if fewer channels) -> 3x3x3 conv without bias -> ReLU. Encoder level i (max-pool
2 first, except level 0) doubles to f_maps 2^i with its first conv at max(out / 2, in) channels; each
decoder level upsamples by nearest x2, concatenates [skip, up] and runs two convs to the skip's width;
a final 1x1x1 conv (with bias) gives `out_channels`.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer

XAVIER = "glorot_normal"  # UNet.weight_init: xavier_normal_ on every Conv2d, zero bias


@keras.saving.register_keras_serializable(package="eccv20zoo")
class UNet2D(ZooLayer):
    """(B, R, R, in) -> (B, R, R, out_channels); R divisible by 2^(depth - 1)."""

    def __init__(self, in_channels: int = 32, out_channels: int = 32, depth: int = 4, start_filters: int = 32,
                 **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.depth = in_channels, depth

        def conv(width, name):
            return layers.Conv2D(width, 3, padding="same", kernel_initializer=XAVIER, name=name)

        # Layers are attributes (down0_conv1, up0_upconv, ...), not lists: tf.train.Checkpoint does not
        # follow Keras 3's tracked lists, so a list would leave them out of the trainer's checkpoints.
        for i in range(depth):
            width = start_filters * 2 ** i
            setattr(self, f"down{i}_conv1", conv(width, f"down{i}_conv1"))
            setattr(self, f"down{i}_conv2", conv(width, f"down{i}_conv2"))
        for i in range(depth - 1):
            width = start_filters * 2 ** (depth - 2 - i)
            setattr(self, f"up{i}_upconv", layers.Conv2DTranspose(width, 2, strides=2, name=f"up{i}_upconv"))
            setattr(self, f"up{i}_conv1", conv(width, f"up{i}_conv1"))
            setattr(self, f"up{i}_conv2", conv(width, f"up{i}_conv2"))
        self.final = layers.Conv2D(out_channels, 1, kernel_initializer=XAVIER, name="conv_final")

    @property
    def down(self) -> list[tuple]:
        """[(conv1, conv2)] per encoder level."""
        return [(getattr(self, f"down{i}_conv1"), getattr(self, f"down{i}_conv2")) for i in range(self.depth)]

    @property
    def up(self) -> list[tuple]:
        """[(upconv, conv1, conv2)] per decoder level."""
        return [tuple(getattr(self, f"up{i}_{n}") for n in ("upconv", "conv1", "conv2")) for i in range(self.depth - 1)]

    def build(self, input_shape):
        channels, res = self.in_channels, 8
        for c1, c2 in self.down:
            c1.build((None, res, res, channels))
            channels = c1.filters
            c2.build((None, res, res, channels))
        for upconv, c1, c2 in self.up:
            upconv.build((None, res, res, channels))
            channels = upconv.filters
            c1.build((None, res, res, 2 * channels))
            c2.build((None, res, res, channels))
        self.final.build((None, res, res, channels))
        self.built = True

    def call(self, x):
        skips = []
        for i, (c1, c2) in enumerate(self.down):
            if i:
                x = ops.max_pool(x, 2, 2)
            x = ops.relu(c2(ops.relu(c1(x))))
            skips.append(x)
        for i, (upconv, c1, c2) in enumerate(self.up):
            x = ops.concatenate([upconv(x), skips[-(i + 2)]], axis=-1)
            x = ops.relu(c2(ops.relu(c1(x))))
        return self.final(x)


def _groups(channels: int, groups: int = 8) -> int:
    return 1 if channels < groups else groups


@keras.saving.register_keras_serializable(package="eccv20zoo")
class UNet3D(ZooLayer):
    """(B, R, R, R, in) -> (B, R, R, R, out_channels); R divisible by 2^(num_levels - 1)."""

    def __init__(self, in_channels: int = 32, out_channels: int = 32, num_levels: int = 3, f_maps: int = 32,
                 num_groups: int = 8, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.num_levels = in_channels, num_levels
        widths = [f_maps * 2 ** k for k in range(num_levels)]
        self._inputs: dict[str, int] = {}  # single conv name -> its input channels

        def single(cin, cout, name):  # 'gcr': GroupNorm on the input channels, conv (no bias), ReLU
            setattr(self, f"{name}_gn", layers.GroupNormalization(_groups(cin, num_groups), epsilon=1e-5,
                                                                 name=f"{name}_gn"))
            setattr(self, f"{name}_conv", layers.Conv3D(cout, 3, padding="same", use_bias=False, name=f"{name}_conv"))
            self._inputs[name] = cin

        cin = in_channels
        for i, cout in enumerate(widths):
            mid = max(cout // 2, cin)
            single(cin, mid, f"enc{i}_1")
            single(mid, cout, f"enc{i}_2")
            cin = cout
        for i in range(num_levels - 1):
            skip = widths[-(i + 2)]
            single(cin + skip, skip, f"dec{i}_1")
            single(skip, skip, f"dec{i}_2")
            cin = skip
        self.final = layers.Conv3D(out_channels, 1, name="final_conv")

    def _pair(self, prefix: str) -> tuple:
        return tuple((getattr(self, f"{prefix}_{j}_gn"), getattr(self, f"{prefix}_{j}_conv"), self._inputs[f"{prefix}_{j}"])
                     for j in (1, 2))

    @property
    def encoders(self) -> list[tuple]:
        """[((norm, conv, in channels) x 2)] per encoder level (layers are attributes: see UNet2D)."""
        return [self._pair(f"enc{i}") for i in range(self.num_levels)]

    @property
    def decoders(self) -> list[tuple]:
        return [self._pair(f"dec{i}") for i in range(self.num_levels - 1)]

    def build(self, input_shape):
        for pair in (*self.encoders, *self.decoders):
            for norm, conv, cin in pair:
                norm.build((None, 4, 4, 4, cin))
                conv.build((None, 4, 4, 4, cin))
        self.final.build((None, 4, 4, 4, self.decoders[-1][1][1].filters if self.decoders else
                          self.encoders[-1][1][1].filters))
        self.built = True

    @staticmethod
    def _single(block, x):
        norm, conv, _ = block
        return ops.relu(conv(norm(x)))

    def call(self, x):
        skips = []
        for i, (first, second) in enumerate(self.encoders):
            if i:
                x = ops.max_pool(x, 2, 2)
            x = self._single(second, self._single(first, x))
            skips.append(x)
        for i, (first, second) in enumerate(self.decoders):
            x = ops.repeat(ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2), 2, axis=3)  # nearest x2
            x = ops.concatenate([skips[-(i + 2)], x], axis=-1)
            x = self._single(second, self._single(first, x))
        return self.final(x)

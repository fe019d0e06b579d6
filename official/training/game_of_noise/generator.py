"""ANT's noise generators: small residual conv nets from N(0, 1) noise z to a noise pattern delta.

1x1: conv 3->20->20->20->3, kernels 1x1, ReLU between, plus z (per-pixel i.i.d. but learned
distribution). 3x3: the second conv is 3x3 and valid on a z 2 px larger, so neighbouring pixels
correlate and delta keeps the image size (the skip takes z's centre). Weights N(0, 0.01), biases 0.
The forward is a function of an explicit weight list, so ANT's replay buffer can run stored snapshots
through the same code as the live generator.
"""

from __future__ import annotations

import keras
from keras import ops

WIDTH = 20


def kernel_sizes(kind: str) -> tuple[int, ...]:
    if kind not in ("1x1", "3x3"):
        raise ValueError(f"training.generator: expected 1x1 or 3x3, got {kind!r}")
    return (1, 3, 1, 1) if kind == "3x3" else (1, 1, 1, 1)


def apply_generator(weights, z):
    """delta from z (NHWC) with weights [k1, b1, .., k4, b4]; z is 2 px larger per side for 3x3."""
    kernels = weights[0::2]
    crop = sum(int(k.shape[0]) - 1 for k in kernels) // 2
    y = z
    for i, (k, b) in enumerate(zip(kernels, weights[1::2], strict=True)):
        y = ops.conv(y, k, padding="valid") + b
        if i < len(kernels) - 1:
            y = ops.relu(y)
    skip = z[:, crop : ops.shape(z)[1] - crop, crop : ops.shape(z)[2] - crop, :] if crop else z
    return y + skip


class NoiseGenerator(keras.layers.Layer):
    """The live generator: `call(z)` = apply_generator(its weights, z); `margin` = extra z pixels per side."""

    def __init__(self, kind: str = "1x1", channels: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.channels = channels
        sizes = kernel_sizes(kind)
        self.margin = sum(s - 1 for s in sizes) // 2
        init = keras.initializers.RandomNormal(0.0, 0.01)
        widths = (channels, WIDTH, WIDTH, WIDTH, channels)
        self.weights_list = []
        for i, size in enumerate(sizes):
            self.weights_list.append(self.add_weight(shape=(size, size, widths[i], widths[i + 1]), initializer=init, name=f"conv{i + 1}_kernel"))
            self.weights_list.append(self.add_weight(shape=(widths[i + 1],), initializer="zeros", name=f"conv{i + 1}_bias"))

    def noise_input(self, batch, height, width, seed=None):
        """z ~ N(0, 1) of the size this generator needs for a (height, width) output."""
        m = 2 * self.margin
        return keras.random.normal((batch, height + m, width + m, self.channels), seed=seed)

    def call(self, z):
        return apply_generator([w.value if hasattr(w, "value") else w for w in self.weights_list], z)

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "channels": self.channels}

"""The export transform: a ProxyBNN training model -> the plain binary network (A and P removed).

Every ProxyBinaryConv2D becomes a BinaryConv2D whose fixed kernel is W_b = alpha * sign(A P); every
other layer (stem, BN, shortcuts, logits) keeps its weights. The folded model has the plain backbone's
parameter count and the training model's inference-mode logits (up to float summation order: the
training layer sums +-1 and scales by alpha, the folded one sums +-alpha). Checkpoints keep A and P
for resuming; only exports are folded (`BinaryResNet.export_model`).
"""

from __future__ import annotations

import keras
from keras import ops

from official.vision.proxybnn.layers import ProxyBinaryConv2D


def fold(model: keras.Model) -> keras.Model:
    """A `mode="binary"` twin of the `mode="proxy"` BinaryResNet `model` holding W_b as its kernels."""
    args = dict(model.constructor_args)
    if args.get("mode") != "proxy":
        raise ValueError(f"fold: expected a mode='proxy' model, got mode={args.get('mode')!r}")
    folded = type(model)(**{**args, "mode": "binary"}, name=f"{model.name}_folded")
    for layer in model.layers:
        target = folded.get_layer(layer.name)
        if isinstance(layer, ProxyBinaryConv2D):
            target.kernel.assign(ops.convert_to_numpy(layer.binary_kernel()))
        elif layer.weights:
            target.set_weights(layer.get_weights())
    return folded

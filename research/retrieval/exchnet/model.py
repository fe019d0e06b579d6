"""ExchNet's network (Cui et al., ECCV 2020, Sec. 3.1-3.3): attention parts on a mid-level ResNet map,
refined part and global features, and a bias-free hashing layer.

    images (batch, S, S, 3)
      -> ResNet stem + stages 1-3                E (batch, S/16, S/16, C)      (1024 channels for ResNet-50)
      -> 1x1 conv + sigmoid                      A (batch, S/16, S/16, M)      attention maps (Eq. 1)
      -> E * A_j, one per part                   (batch * M, S/16, S/16, C)
      -> stage 4, shared over parts (f_LFR)      F_j (S/32, S/32, C'), GAP -> f_j (batch, M, C')   (Eqs. 2-3)
      -> stage 4 on E (f_GFR)                    GAP -> f_global (batch, C')                      (Eq. 4)
      -> hash: Dense(q, no bias) on [f_global; f_1..f_M]  -> code (batch, q), the pre-sign value (Eq. 9)

The served output is the continuous code h; u = sign(h) at inference and tanh(h) in training. What the
training step needs besides (attention maps, part and global features, for the diversity losses and the
feature exchange) comes from `feature_model()`, which shares every layer with the network.
Reconstructed (spec card "unverified"): ResNet-50 as backbone, 1x1 conv + sigmoid attention, stage 4 as
both refinement nets (shared over parts; the global branch has its own copy unless share_refinement).
Only keras.ops / keras.layers: the network runs under TensorFlow and JAX.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooModel
from official.vision.backbones.resnet import (
    RESNET_BLOCKS,
    RESNET_WIDTHS,
    basic_block,
    bottleneck_block,
    resnet_trunk,
)

ATTENTIONS = ("sigmoid", "softmax")


def refinement_stage(input_shape, blocks: int, width: int, block: str, bn: dict, name: str) -> keras.Model:
    """ResNet stage 4 as a model of its own (first block stride 2), so that calling it on every part
    shares its weights (the spec's f_LFR)."""
    make_block = bottleneck_block if block == "bottleneck" else basic_block
    x = inputs = keras.Input(shape=tuple(input_shape), name=f"{name}_input")
    for i in range(blocks):
        x = make_block(x, width, 2 if i == 0 else 1, f"{name}_{i}", bn)
    return keras.Model(inputs, x, name=name)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ExchNet(ZooModel):
    """Images -> continuous hash code (batch, code_bits); see the module docstring.

    Args:
        code_bits: q, the code length (the paper: 12, 24, 32, 48).
        num_parts: M, attention maps and local features (spec default 4, unverified).
        blocks: ResNet blocks per stage (stages 1-3 are the trunk, stage 4 the refinement nets).
        widths: ResNet stage widths (bottleneck outputs are 4x these).
        block: "bottleneck" (ResNet-50/101) | "basic" (ResNet-18/34; the tiny variant).
        stem_width: channels of the 7x7 stem.
        attention: "sigmoid" (independent maps) | "softmax" (maps compete at each position).
        share_refinement: the global branch uses the parts' stage 4 too (False: a copy of its own).
        bn_momentum: BatchNorm moving-average momentum (Keras convention; PyTorch 0.1 = 0.9).
        input_shape: (height, width, 3).
    """

    def __init__(
        self,
        code_bits: int = 48,
        num_parts: int = 4,
        blocks: tuple[int, ...] = RESNET_BLOCKS[50],
        widths: tuple[int, ...] = RESNET_WIDTHS,
        block: str = "bottleneck",
        stem_width: int = 64,
        attention: str = "sigmoid",
        share_refinement: bool = False,
        bn_momentum: float = 0.9,
        input_shape: tuple[int, int, int] = (448, 448, 3),
        **kwargs,
    ):
        if len(blocks) != 4 or len(widths) != 4:
            raise ValueError(f"ExchNet: blocks and widths need 4 stages, got {blocks} and {widths}")
        if attention not in ATTENTIONS:
            raise ValueError(f"ExchNet: attention must be one of {ATTENTIONS}, got {attention!r}")
        bn = {"momentum": bn_momentum, "epsilon": 1e-5}
        images = keras.Input(shape=tuple(input_shape), name="images")
        trunk = resnet_trunk(images, tuple(blocks[:3]), tuple(widths[:3]), stem_width, bn, name="trunk", block=block)
        e = trunk["C4"]  # E: the split after stage 3 (spec check 6: 28x28x1024 at 448 px for ResNet-50)
        h, w, c = (int(d) for d in e.shape[1:])
        logits = layers.Conv2D(num_parts, 1, name="attention_conv")(e)
        if attention == "sigmoid":
            maps = layers.Activation("sigmoid", name="attention")(logits)
        else:
            maps = layers.Softmax(axis=-1, name="attention")(logits)
        # E_j = E * A_j (Eq. 1), parts stacked into the batch so stage 4 runs once for all of them.
        local = ops.expand_dims(e, 3) * ops.expand_dims(maps, 4)  # (batch, h, w, M, c)
        local = ops.reshape(ops.transpose(local, (0, 3, 1, 2, 4)), (-1, h, w, c))
        lfr = refinement_stage((h, w, c), blocks[3], widths[3], block, bn, "local_refine")
        gfr = lfr if share_refinement else refinement_stage((h, w, c), blocks[3], widths[3], block, bn, "global_refine")
        part_features = layers.GlobalAveragePooling2D(name="local_gap")(lfr(local))
        feature_dim = int(part_features.shape[-1])
        parts = layers.Identity(name="parts")(ops.reshape(part_features, (-1, num_parts, feature_dim)))  # (batch, M, C')
        global_features = layers.GlobalAveragePooling2D(name="global_gap")(gfr(e))  # (batch, C')
        joined = layers.Concatenate(name="joined")([global_features, layers.Flatten(name="parts_flat")(parts)])
        code = layers.Dense(code_bits, use_bias=False, name="hash")(joined)
        super().__init__(inputs=images, outputs=code, **kwargs)
        self.code_bits, self.num_parts, self.feature_dim = int(code_bits), int(num_parts), feature_dim
        self.mid_shape = (h, w, c)
        # Training-time view sharing every layer; kept out of Keras' tracking (weights are the network's).
        object.__setattr__(self, "_features", keras.Model(
            images, {"attention": maps, "global": global_features, "parts": parts, "mid": e}, name="exchnet_features"))

    def feature_model(self) -> keras.Model:
        """images -> {"attention" (b, h, w, M), "global" (b, C'), "parts" (b, M, C'), "mid" E (b, h, w, C)}."""
        return self._features

    def hash_layer(self) -> layers.Dense:
        return self.get_layer("hash")

    def code_from_features(self, global_features, parts):
        """h = W_g [f_global; f_1..f_M] for (possibly exchanged) part features (batch, M, C')."""
        flat = ops.reshape(parts, (-1, self.num_parts * self.feature_dim))
        return self.hash_layer()(ops.concatenate([global_features, flat], axis=-1))

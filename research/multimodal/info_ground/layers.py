"""info-ground's blocks (keras.ops only): the key / value MLPs and the factored word-region attention.

Facts from BigRedT/info-ground exp/ground/models/factored_cap_info_nce_loss.py (spec card info_ground.md
"Method"): KLayer / FLayer with `layers=2` are Linear(in, in) - BatchNorm1d(in) - ReLU - Linear(in, d) on the
flattened (B*T, in) rows (torch BN: eps 1e-5, momentum 0.1 = Keras momentum 0.9). CapInfoNCE: keys K_u = ku(u),
K_w = kw(w); attention of word t of caption w over the regions of image o = softmax_u(K_w . K_u / sqrt(d));
att_V_o = sum_u a * fo(o); compatibility phi = <att_V_o, fw(w)>.

`mask_padding=True` (ours, the default) leaves padded regions out of the softmax and padded rows (regions,
words, missing negatives) out of the BatchNorm moments; `False` reproduces the authors' code, where the
zero-feature pads take part in both (README "Known differences").
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from official.core.base_model import BuiltByFirstCall, ZooLayer

NEG_INF = -1e9  # logit of a padded region (exp underflows to exactly 0 in float32)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MlpHead(ZooLayer):
    """KLayer / FLayer: (..., in_dim) -> (..., out_dim); `mlp_layers` 1, 2 or 3 Linear layers, BN + ReLU between."""

    def __init__(self, in_dim: int, out_dim: int, mlp_layers: int = 2, **kwargs):
        super().__init__(**kwargs)
        if mlp_layers not in (1, 2, 3):
            raise ValueError(f"mlp_layers: 1, 2 or 3 (factored_cap_info_nce_loss.py), got {mlp_layers}")
        self.supports_masking = True  # `mask` = the rows of the BatchNorm moments
        self.depth = mlp_layers - 1
        for i in range(self.depth):  # plain attributes (not lists): TensorFlow checkpoints track them by name
            setattr(self, f"dense{i}", layers.Dense(in_dim, name=f"dense{i}"))
            setattr(self, f"bn{i}", layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"bn{i}"))
        self.out = layers.Dense(out_dim, name=f"dense{mlp_layers - 1}")

    @property
    def hidden(self) -> list:
        return [getattr(self, f"dense{i}") for i in range(self.depth)]

    @property
    def norms(self) -> list:
        return [getattr(self, f"bn{i}") for i in range(self.depth)]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for dense, norm in zip(self.hidden, self.norms, strict=True):
            dense.build(shape)
            norm.build((*shape[:-1], dense.units))
        self.out.build((*shape[:-1], self.hidden[-1].units if self.hidden else shape[-1]))

    def call(self, x, mask=None, training=None):
        """`mask` (...,) True for the rows that count in the BatchNorm moments (None = all rows)."""
        for dense, norm in zip(self.hidden, self.norms, strict=True):
            x = ops.relu(norm(dense(x), training=training, mask=mask))
        return self.out(x)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.out.units)


def masked_softmax(scores, valid):
    """softmax over the last axis of `scores`, with `valid` (broadcastable, bool) False entries at 0."""
    return ops.softmax(ops.where(valid, scores, NEG_INF), axis=-1)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class FactoredWordRegionAttention(BuiltByFirstCall, ZooLayer):
    """CapInfoNCE's four MLPs and the word-region attention, for all caption-image pairs of a batch.

    Shapes: regions (Bo, To, region_dim) with region_mask (Bo, To); words (Bw, Tw, word_dim) with word_mask
    (Bw, Tw); negatives (B, N+1, word_dim) (index 0 = the true noun) with neg_valid (B,), B = Bo = Bw.
    `call` -> logits (Bw, Bo, Tw) = phi(w_t, image o) and neg_logits (B, N+1), computed without the
    (Bw, Bo, Tw, d) att_V_o tensor: logits = sum_u a_wotu <fo(o_u), fw(w_t)> (spec "Hard parts").
    """

    def __init__(self, region_dim: int = 2048, word_dim: int = 768, dim: int = 384, mlp_layers: int = 2,
                 mask_padding: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.mask_padding = mask_padding
        self.fo = MlpHead(region_dim, dim, mlp_layers, name="fo")  # values of the (contextualised = raw) regions
        self.ku = MlpHead(region_dim, dim, mlp_layers, name="ku")  # keys of the uncontextualised regions
        self.fw = MlpHead(word_dim, dim, mlp_layers, name="fw")  # word values
        self.kw = MlpHead(word_dim, dim, mlp_layers, name="kw")  # word keys

    def _rows(self, mask):
        return ops.cast(mask, "bool") if self.mask_padding else None

    def encode_regions(self, regions, region_mask, training=None):
        """(K_u, V_o) (Bo, To, d)."""
        rows = self._rows(region_mask)
        return self.ku(regions, mask=rows, training=training), self.fo(regions, mask=rows, training=training)

    def encode_words(self, words, word_mask, training=None):
        """(K_w, V_w) (Bw, Tw, d)."""
        rows = self._rows(word_mask)
        return self.kw(words, mask=rows, training=training), self.fw(words, mask=rows, training=training)

    def _softmax(self, scores, region_valid):
        if self.mask_padding:
            return masked_softmax(scores, region_valid)
        return ops.softmax(scores, axis=-1)

    def cross_attention(self, k_w, k_u, region_mask):
        """(Bw, Bo, Tw, To): word t of caption w over the regions of image o."""
        scores = ops.einsum("wtd,oud->wotu", k_w, k_u) / math.sqrt(self.dim)
        return self._softmax(scores, ops.cast(region_mask, "bool")[None, :, None, :])

    def pair_attention(self, regions, region_mask, words, word_mask, training=None):
        """(B, Tw, To): each caption's words over its own image's regions (inference, the exported signature)."""
        k_u, _ = self.encode_regions(regions, region_mask, training)
        k_w, _ = self.encode_words(words, word_mask, training)
        scores = ops.einsum("btd,bud->btu", k_w, k_u) / math.sqrt(self.dim)
        return self._softmax(scores, ops.cast(region_mask, "bool")[:, None, :])

    def cross_outputs(self, regions, region_mask, words, word_mask, training=None):
        """attention (Bw, Bo, Tw, To), att_V_o (Bw, Bo, Tw, d), logits (Bw, Bo, Tw), materialised (checks, plots)."""
        k_u, v_o = self.encode_regions(regions, region_mask, training)
        k_w, v_w = self.encode_words(words, word_mask, training)
        att = self.cross_attention(k_w, k_u, region_mask)
        att_v_o = ops.einsum("wotu,oud->wotd", att, v_o)
        return att, att_v_o, ops.sum(att_v_o * v_w[:, None], axis=-1)

    def call(self, regions, region_mask, words, word_mask, negatives, neg_valid, training=None):
        k_u, v_o = self.encode_regions(regions, region_mask, training)
        k_w, v_w = self.encode_words(words, word_mask, training)
        att = self.cross_attention(k_w, k_u, region_mask)
        logits = ops.sum(att * ops.einsum("oud,wtd->wotu", v_o, v_w), axis=-1)
        # negative nouns: each candidate attends over its own caption's image (att_V_o_for_negs)
        valid = ops.cast(neg_valid, "bool")[:, None] & ops.ones_like(negatives[..., 0], dtype="bool")
        rows = valid if self.mask_padding else None
        k_n = self.kw(negatives, mask=rows, training=training)
        v_n = self.fw(negatives, mask=rows, training=training)
        scores = ops.einsum("bnd,bud->bnu", k_n, k_u) / math.sqrt(self.dim)
        att_n = self._softmax(scores, ops.cast(region_mask, "bool")[:, None, :])
        neg_logits = ops.sum(ops.einsum("bnu,bud->bnd", att_n, v_o) * v_n, axis=-1)
        return logits, neg_logits


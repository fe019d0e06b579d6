"""HAN's blocks: the shared hybrid-attention layer and attentive MMIL pooling (keras.ops only).

Facts from YapengTian/AVVP-ECCV20 nets/net_audiovisual.py (spec card avvp.md "Method"):
- HANLayer(q, other): x = LN1(q + Drop(CrossAtt(q, other, other)) + Drop(SelfAtt(q, q, q))), then
  LN2(x + Drop(W2 Drop(ReLU(W1 x)))); torch nn.MultiheadAttention (attention-weight dropout, 1/sqrt(d_head)
  scaling, biases on q/k/v/out) and nn.LayerNorm (eps 1e-5).
- MMIL_Net calls ONE HANLayer twice, (audio, visual) and (visual, audio): the weights are shared.
- Attentive MMIL pooling: frame_att = softmax over time, av_att = softmax over the two modalities;
  global = sum_t,m frame_att * frame_prob * av_att; audio / visual = sum_t frame_att * frame_prob.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer


@keras.saving.register_keras_serializable(package="eccv20zoo")
class HybridAttention(ZooLayer):
    """One HAN layer: (query (B, T, d), other (B, T, d)) -> (B, T, d); self- plus cross-modal attention."""

    def __init__(self, d_model: int = 512, num_heads: int = 1, ffn_dim: int = 512, dropout: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        key_dim = d_model // num_heads
        self.cm_attn = layers.MultiHeadAttention(num_heads, key_dim, dropout=dropout, name="cm_attn")
        self.self_attn = layers.MultiHeadAttention(num_heads, key_dim, dropout=dropout, name="self_attn")
        self.linear1 = layers.Dense(ffn_dim, name="linear1")
        self.linear2 = layers.Dense(d_model, name="linear2")
        self.norm1 = layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.norm2 = layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.drop_cm, self.drop_self = layers.Dropout(dropout), layers.Dropout(dropout)
        self.drop_ffn, self.drop_out = layers.Dropout(dropout), layers.Dropout(dropout)

    def build(self, query_shape, other_shape=None):
        other_shape = other_shape or query_shape
        self.cm_attn.build(query_shape, other_shape)
        self.self_attn.build(query_shape, query_shape)
        self.norm1.build(query_shape)
        self.linear1.build(query_shape)
        self.linear2.build((*query_shape[:-1], self.linear1.units))
        self.norm2.build(query_shape)

    def call(self, query, other, training=None):
        cross = self.cm_attn(query, other, other, training=training)
        own = self.self_attn(query, query, query, training=training)
        x = self.norm1(query + self.drop_cm(cross, training=training) + self.drop_self(own, training=training))
        h = self.drop_ffn(ops.relu(self.linear1(x)), training=training)
        return self.norm2(x + self.drop_out(self.linear2(h), training=training))

    def compute_output_shape(self, query_shape, other_shape=None):
        return query_shape


def mmil_pool(frame_prob, frame_att_logits, av_att_logits):
    """Attentive MMIL pooling of (B, T, 2, C) tensors -> global, audio, visual (B, C) + both attentions."""
    frame_att = ops.softmax(frame_att_logits, axis=1)  # over time
    av_att = ops.softmax(av_att_logits, axis=2)  # over the audio / visual axis
    temporal = frame_att * frame_prob
    global_prob = ops.sum(temporal * av_att, axis=(1, 2))
    return global_prob, ops.sum(temporal[:, :, 0], axis=1), ops.sum(temporal[:, :, 1], axis=1), frame_att, av_att


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MmilPooling(ZooLayer):
    """(frame_prob, frame_att_logits, av_att_logits) (B, T, 2, C) -> (global, audio, visual) (B, C)."""

    def call(self, frame_prob, frame_att_logits, av_att_logits):
        return mmil_pool(frame_prob, frame_att_logits, av_att_logits)[:3]

    def compute_output_shape(self, frame_prob_shape, *shapes):
        out = (frame_prob_shape[0], frame_prob_shape[-1])
        return out, out, out


@keras.saving.register_keras_serializable(package="eccv20zoo")
class UnpackFeatures(ZooLayer):
    """One flat (B, sum of sizes) vector -> the model's feature dict (TFLite bodies take a single input)."""

    def __init__(self, shapes: dict, **kwargs):
        super().__init__(**kwargs)
        self.shapes = {k: tuple(v) for k, v in shapes.items()}

    def call(self, packed):
        out, start = {}, 0
        for name, shape in self.shapes.items():
            size = shape[0] * shape[1]
            out[name] = ops.reshape(packed[:, start:start + size], (-1, *shape))
            start += size
        return out

    def compute_output_shape(self, packed_shape):
        return {k: (packed_shape[0], *v) for k, v in self.shapes.items()}

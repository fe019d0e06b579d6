"""The episodic graph memory of GraphMemVOS (Lu et al., ECCV 2020; models/graph_memory.py `Memory`).

Channels-last tensors: memory keys (B, T, H, W, Ck), memory values (B, T, H, W, Cv), query key
(B, H, W, Ck), query value (B, H, W, Cv); Ck = 128, Cv = 512 in the paper. T is a fixed capacity
(6 in the DAVIS protocol) with `memory_mask` (B, T) marking the real nodes, so XLA sees static shapes.

Read (spec "Episodic graph memory"): p = softmax over the T*H*W memory pixels of k_m . k_q / sqrt(Ck),
mem = sum p v_m. With fewer than 2 valid memory nodes the output is concat(mem, q_value).
Otherwise `propagate_layers` = 5 iterations of
- edge messages e_{y->x} = v_y softmax_{pixels of y}(linear_e(k_y) . k_x) (no scaling), summed over
  y != x, through conv_fusion (1x1, 512 -> 512); memory nodes: v_x <- ConvGRU_m(message, v_x);
- query: h <- ConvGRU_h(h, mem) (h starts as q_value; input h, hidden state mem);
output concat(h, q_value) (B, H, W, 2 Cv).
`graph_update`: "release" reproduces the released code, where the updated memory values are written to a
fresh tensor (m_out_all) and never read: mem is the readout of the ORIGINAL values in every iteration,
so the node updates (conv_fusion, ConvGRU_m, linear_e) do not change the output and are not computed
here (their weights exist for the parameter count and checkpoint conversion). "paper" carries the
updated memory values into the next iteration's readout, as the paper describes.
Parameters: conv_fusion 262,656 + 2 ConvGRUs x 1,574,400 + linear_e 16,384 = 3,427,840.
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

GRAPH_UPDATES = ("release", "paper")
_NEG = -1e9  # logit of padded memory pixels


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ConvGRUCell(layers.Layer):
    """The 1x1-kernel ConvGRU of models/units/ConvGRU2.py, as Dense layers on the channel axis:
    z = sigmoid(W_z [x, h]), r = sigmoid(W_r [x, h]), n = tanh(W_o [x, r h]), h' = h (1 - z) + n z."""

    def __init__(self, hidden: int, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.reset_gate = layers.Dense(hidden, name="reset_gate")
        self.update_gate = layers.Dense(hidden, name="update_gate")
        self.out_gate = layers.Dense(hidden, name="out_gate")

    def build(self, input_shape, state_shape=None):
        width = input_shape[-1] + self.hidden
        for gate in (self.reset_gate, self.update_gate, self.out_gate):
            gate.build((None, width))
        self.built = True

    def call(self, x, state):
        stacked = ops.concatenate([x, state], axis=-1)
        update = ops.sigmoid(self.update_gate(stacked))
        reset = ops.sigmoid(self.reset_gate(stacked))
        out = ops.tanh(self.out_gate(ops.concatenate([x, state * reset], axis=-1)))
        return state * (1 - update) + out * update

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden}


def read_weights(memory_keys, query_key, memory_mask=None):
    """Read attention (B, T*H*W, H*W): softmax over memory pixels of k_m . k_q / sqrt(Ck)."""
    b, t, h, w, ck = ops.shape(memory_keys)
    mk = ops.reshape(memory_keys, (b, t * h * w, ck))
    qk = ops.reshape(query_key, (b, h * w, ck))
    logits = ops.einsum("bmc,bqc->bmq", mk, qk) / math.sqrt(ck)
    if memory_mask is not None:
        valid = ops.reshape(ops.repeat(ops.cast(memory_mask, "bool")[:, :, None], h * w, axis=2), (b, t * h * w, 1))
        logits = ops.where(valid, logits, _NEG)
    return ops.softmax(logits, axis=1)


def read(memory_keys, memory_values, query_key, memory_mask=None):
    """Readout mem (B, H, W, Cv) = sum over memory pixels of the read weights times the values."""
    b, t, h, w, cv = ops.shape(memory_values)
    p = read_weights(memory_keys, query_key, memory_mask)
    mem = ops.einsum("bmq,bmd->bqd", p, ops.reshape(memory_values, (b, t * h * w, cv)))
    return ops.reshape(mem, (b, h, w, cv))


@keras.saving.register_keras_serializable(package="eccv20zoo")
class EpisodicGraphMemory(layers.Layer):
    """Graph memory read + update (module docstring). Call with (memory_keys, memory_values, query_key,
    query_value[, memory_mask]); returns (B, H, W, 2 Cv)."""

    def __init__(self, key_dim: int = 128, value_dim: int = 512, propagate_layers: int = 5,
                 graph_update: str = "release", **kwargs):
        super().__init__(**kwargs)
        if graph_update not in GRAPH_UPDATES:
            raise ValueError(f"graph_update must be one of {GRAPH_UPDATES}, got {graph_update!r}")
        self.key_dim, self.value_dim = key_dim, value_dim
        self.propagate_layers, self.graph_update = propagate_layers, graph_update
        self.conv_fusion = layers.Dense(value_dim, name="conv_fusion")
        self.gru_h = ConvGRUCell(value_dim, name="convgru_h")
        self.gru_m = ConvGRUCell(value_dim, name="convgru_m")
        self.linear_e = layers.Dense(key_dim, use_bias=False, name="linear_e")

    def build(self, *shapes):
        self.conv_fusion.build((None, self.value_dim))
        self.gru_h.build((None, self.value_dim))
        self.gru_m.build((None, self.value_dim))
        self.linear_e.build((None, self.key_dim))
        self.built = True

    def _messages(self, keys, values, node_mask):
        """Summed edge messages into every node (B, N, H, W, Cv) from the other valid nodes."""
        b, n, h, w, ck = ops.shape(keys)
        k = ops.reshape(keys, (b, n, h * w, ck))
        v = ops.reshape(values, (b, n, h * w, self.value_dim))
        logits = ops.einsum("bypc,bxqc->byxpq", self.linear_e(k), k)
        att = ops.softmax(logits, axis=3)  # over the pixels of the sending node y
        sender = ops.cast(node_mask, att.dtype)[:, :, None] * (1 - ops.eye(n, dtype=att.dtype))[None]
        msg = ops.einsum("byxpq,bypd,byx->bxqd", att, v, sender)
        return ops.reshape(msg, (b, n, h, w, self.value_dim))

    def call(self, memory_keys, memory_values, query_key, query_value, memory_mask=None):
        b, t = ops.shape(memory_keys)[0], ops.shape(memory_keys)[1]
        if memory_mask is None:
            memory_mask = ops.ones((b, t), dtype="bool")
        memory_mask = ops.cast(memory_mask, "bool")
        mem = read(memory_keys, memory_values, query_key, memory_mask)
        single = ops.concatenate([mem, query_value], axis=-1)
        values, state = memory_values, query_value
        node_mask = ops.concatenate([memory_mask, ops.ones((b, 1), dtype="bool")], axis=1)
        keys_all = ops.concatenate([memory_keys, query_key[:, None]], axis=1)
        for _ in range(self.propagate_layers):
            if self.graph_update == "paper":
                mem = read(memory_keys, values, query_key, memory_mask)
                msg = self.conv_fusion(self._messages(keys_all, ops.concatenate([values, state[:, None]], 1), node_mask))
                updated = self.gru_m(msg[:, :t], values)
                values = ops.where(memory_mask[:, :, None, None, None], updated, values)
            state = self.gru_h(state, mem)
        graph = ops.concatenate([state, query_value], axis=-1)
        use_graph = ops.sum(ops.cast(memory_mask, "int32"), axis=1) >= 2
        return ops.where(use_graph[:, None, None, None], graph, single)

    def get_config(self):
        return {**super().get_config(), "key_dim": self.key_dim, "value_dim": self.value_dim,
                "propagate_layers": self.propagate_layers, "graph_update": self.graph_update}

"""MemDPC's recurrent and memory layers (keras.ops only): the ConvGRU of backbone/convrnn.py and the compressive
memory with its addressing head of memdpc/model.py (spec card memdpc.md "Aggregation", "Compressive memory")."""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ConvGru(ZooLayer):
    """One-layer ConvGRU over (batch, time, h, w, c) -> last hidden state (batch, h, w, hidden).

    Cell (convrnn.ConvGRUCell): u = sigmoid(W_u [x, h]), r = sigmoid(W_r [x, h]), o = tanh(W_o [x, r * h]),
    h' = h (1 - u) + o u, with dropout (p = `dropout`) on h' after every step as ConvGRU.forward. The time loop is
    a static Python loop (fixed num_seq: XLA and TFLite see a plain graph). `gain` is the orthogonal init gain
    (MemDPC pretext 0.1; eval/model_lc.py 1.0); biases start at 0.
    """

    def __init__(self, hidden_size: int = 256, kernel_size: int = 1, dropout: float = 0.1, gain: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        init = keras.initializers.Orthogonal(gain)

        def conv(n):
            return layers.Conv2D(hidden_size, kernel_size, padding="same", kernel_initializer=init, name=n)

        self.reset_gate, self.update_gate, self.out_gate = conv("reset_gate"), conv("update_gate"), conv("out_gate")
        self.drop = layers.Dropout(dropout)

    def build(self, input_shape):
        c = input_shape[-1]
        spatial = (None, None, c + self.hidden_size)
        for g in (self.reset_gate, self.update_gate, self.out_gate):
            g.build((None, *spatial))

    def cell(self, x, h):
        """One step on (batch, h, w, c) input and state."""
        combined = ops.concatenate([x, h], axis=-1)
        update = ops.sigmoid(self.update_gate(combined))
        reset = ops.sigmoid(self.reset_gate(combined))
        out = ops.tanh(self.out_gate(ops.concatenate([x, h * reset], axis=-1)))
        return h * (1 - update) + out * update

    def call(self, sequence, state=None, training=None):
        if state is None:
            s = ops.shape(sequence)
            state = ops.zeros((s[0], s[2], s[3], self.hidden_size), sequence.dtype)
        for t in range(sequence.shape[1]):
            state = self.drop(self.cell(sequence[:, t], state), training=training)
        return state

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2], input_shape[3], self.hidden_size)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MemoryPredictor(ZooLayer):
    """Compressive memory M (mem_size, c) and the addressing head phi (1x1 conv c->c, ReLU, 1x1 conv c->mem_size):
    z_hat = sum_i softmax(phi(h))_i M_i per position, a convex combination of memory slots (memdpc/model.py)."""

    def __init__(self, feature_size: int = 256, mem_size: int = 1024, gain: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        init = keras.initializers.Orthogonal(gain)
        self.pred_0 = layers.Conv2D(feature_size, 1, kernel_initializer=init, name="network_pred_0")
        self.pred_2 = layers.Conv2D(mem_size, 1, kernel_initializer=init, name="network_pred_2")
        self.feature_size, self.mem_size = feature_size, mem_size

    def build(self, input_shape):
        self.memory = self.add_weight((self.mem_size, self.feature_size), keras.initializers.RandomNormal(0.0, 1.0),
                                      name="mb")  # torch.randn
        self.pred_0.build((None, None, None, self.feature_size))
        self.pred_2.build((None, None, None, self.feature_size))

    def address(self, hidden):
        """Softmax addressing weights (batch, h, w, mem_size) of a GRU state."""
        return ops.softmax(self.pred_2(ops.relu(self.pred_0(hidden))), axis=-1)

    def call(self, hidden):
        return ops.einsum("bhwm,mc->bhwc", self.address(hidden), self.memory)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.feature_size)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class TemporalMean(ZooLayer):
    """(B, N, t, h, w, c) block features -> (B, N, h, w, c): avg_pool3d over the ceil(seq_len / 4) remaining frames
    (the official kernel equals the remaining length, so one output step); `relu` first for the classifier."""

    def __init__(self, relu: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.relu = relu

    def call(self, x):
        return ops.mean(ops.relu(x) if self.relu else x, axis=2)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], *input_shape[3:])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MemDpcHead(ZooLayer):
    """Bidirectional memory-augmented prediction (MemDPC_BD.forward) on pre-ReLU block features (B, N, h, w, c).

    Per direction: the GRU reads ReLU(z_1 .. z_{N-P}); then P times: z_hat = memory read of the state, and the GRU
    reads ReLU(z_hat) with its state carried. The backward direction runs agg_b on the time-reversed features; the
    memory and addressing head are shared. `share_gru` (test-only) makes agg_b = agg_f.
    Returns pred_forward, pred_backward (B, P, h, w, c) and the context c_t of the forward GRU (B, h, w, c).
    """

    def __init__(self, feature_size: int = 256, mem_size: int = 1024, pred_step: int = 3, dropout: float = 0.1,
                 share_gru: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.pred_step = pred_step
        self.agg_f = ConvGru(feature_size, 1, dropout, 0.1, name="agg_f")
        self.agg_b = self.agg_f if share_gru else ConvGru(feature_size, 1, dropout, 0.1, name="agg_b")
        self.predictor = MemoryPredictor(feature_size, mem_size, name="memory")

    def build(self, input_shape):
        seq = (None, None, *input_shape[2:])
        for agg in {id(self.agg_f): self.agg_f, id(self.agg_b): self.agg_b}.values():
            agg.build(seq)
        self.predictor.build((None, *input_shape[2:]))

    def _direction(self, features, agg, training):
        n = features.shape[1]
        state = agg(ops.relu(features[:, : n - self.pred_step]), training=training)
        context, preds = state, []
        for j in range(self.pred_step):
            if j:
                state = agg(ops.expand_dims(ops.relu(preds[-1]), 1), state, training=training)
            preds.append(self.predictor(state))
        return ops.stack(preds, axis=1), context

    def call(self, features, training=None):
        pred_f, context = self._direction(features, self.agg_f, training)
        pred_b, _ = self._direction(ops.flip(features, axis=1), self.agg_b, training)
        return pred_f, pred_b, context

    def compute_output_shape(self, input_shape):
        pred = (input_shape[0], self.pred_step, *input_shape[2:])
        return pred, pred, (input_shape[0], *input_shape[2:])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class BidirectionalContext(ZooLayer):
    """eval/model_lc.py: agg_f on the ReLU'd features and agg_b on their reversal; each last state spatially
    averaged; concatenated (B, 2 c). Orthogonal init gain 1 (model_lc._initialize_weights)."""

    def __init__(self, feature_size: int = 256, dropout: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.agg_f = ConvGru(feature_size, 1, dropout, 1.0, name="agg_f")
        self.agg_b = ConvGru(feature_size, 1, dropout, 1.0, name="agg_b")

    def build(self, input_shape):
        self.agg_f.build(input_shape)
        self.agg_b.build(input_shape)

    def call(self, features, training=None):
        f = ops.mean(self.agg_f(features, training=training), axis=(1, 2))
        b = ops.mean(self.agg_b(ops.flip(features, axis=1), training=training), axis=(1, 2))
        return ops.concatenate([f, b], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * self.agg_f.hidden_size)

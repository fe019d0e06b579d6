"""TopoPlan's blocks (keras.ops only): the gated bound networks, the node-slot inputs and the node mask.

Facts from edbeeching/learning_to_plan train.py (spec card topo_planning.md "Method"):
- BoundNetwork2(i, o): g(v) = linear2(sigmoid(linear1(v)) * v), linear1 square (i x i), both torch Linear
  initialised orthogonal with bias 0.1.
- bound_update reads the cartesian product p_ij = [z_i ; z_j] (z = [r ; x]) of all ordered pairs. Here
  linear1(p_ij) = A z_i + B z_j + b is computed per node and broadcast (the same sum, N times fewer
  multiplies), and linear2 is split the same way over the gated halves; kernels keep Dense's (in, out) layout.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer

MASK_LOGIT = -1e9  # logits of padded nodes: never chosen, exp() underflows to 0 in the softmax


def official_dense(units: int, name: str) -> layers.Dense:
    """torch Linear as init_() in train.py builds it: orthogonal kernel, bias 0.1."""
    return layers.Dense(units, kernel_initializer="orthogonal", bias_initializer=keras.initializers.Constant(0.1),
                        name=name)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class GatedBound(ZooLayer):
    """BoundNetwork2 on node vectors: (..., i) -> (..., units) = linear2(sigmoid(linear1(v)) * v)."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.linear2 = official_dense(units, "linear2")
        self.linear1 = None

    def build(self, input_shape):
        self.linear1 = official_dense(input_shape[-1], "linear1")
        self.linear1.build(input_shape)
        self.linear2.build(input_shape)

    def call(self, v):
        return self.linear2(ops.sigmoid(self.linear1(v)) * v)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.linear2.units)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PairGatedBound(ZooLayer):
    """BoundNetwork2 on every ordered pair: z (B, N, f) -> (B, N, N, units), row i / column j = g([z_i ; z_j]).

    Weights are linear1 (2f, 2f) + (2f,) and linear2 (2f, units) + (units,), as Dense kernels would be.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        pair = 2 * input_shape[-1]
        orth, bias = keras.initializers.Orthogonal(), keras.initializers.Constant(0.1)
        self.gate_kernel = self.add_weight(name="gate_kernel", shape=(pair, pair), initializer=orth)
        self.gate_bias = self.add_weight(name="gate_bias", shape=(pair,), initializer=bias)
        self.out_kernel = self.add_weight(name="out_kernel", shape=(pair, self.units), initializer=orth)
        self.out_bias = self.add_weight(name="out_bias", shape=(self.units,), initializer=bias)

    def call(self, z):
        f = z.shape[-1]
        own = ops.matmul(z, self.gate_kernel[:f])  # (B, N, 2f): the z_i half of linear1
        other = ops.matmul(z, self.gate_kernel[f:])  # the z_j half
        gate = ops.sigmoid(own[:, :, None, :] + other[:, None, :, :] + self.gate_bias)  # (B, N, N, 2f)
        out = ops.matmul(gate[..., :f] * z[:, :, None, :], self.out_kernel[:f])
        out = out + ops.matmul(gate[..., f:] * z[:, None, :, :], self.out_kernel[f:])
        return out + self.out_bias

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], input_shape[1], self.units)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class NodeCoreFeatures(ZooLayer):
    """[D_i ; A_i ; t_i ; I_i ; F_i] per node (train.py's node_core_features, same order), (B, N, 3N + 1 + F)."""

    def call(self, distances, linkages, target, features=None):
        n = distances.shape[-1]
        eye = ops.broadcast_to(ops.eye(n, dtype=distances.dtype)[None], ops.shape(distances))
        parts = [distances, linkages, target[:, :, None], eye]
        if features is not None:
            parts.append(features)
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, distances_shape, linkages_shape, target_shape, features_shape=None):
        extra = features_shape[-1] if features_shape is not None else 0
        return (*distances_shape[:2], 3 * distances_shape[-1] + 1 + extra)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class UnusedParameter(ZooLayer):
    """Holds the official GNN's `r_init` (1, N, hidden), created in __init__ but never read in forward; kept so
    the trainable count (4,837,385) and the state dict match. Passes its input through unchanged."""

    def __init__(self, shape: tuple[int, ...], **kwargs):
        super().__init__(**kwargs)
        self.value = self.add_weight(name="value", shape=tuple(shape), initializer="zeros")

    def call(self, x):
        return x

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="eccv20zoo")
class GroupNodes(ZooLayer):
    """Reshape (-1, N, d) with a batch axis that changes: pair features (B, N, N, d) -> neighbour sequences
    (B * N, N, d) for the GRU, and GRU states (B * N, d) -> node vectors (B, N, d)."""

    def __init__(self, num_nodes: int, **kwargs):
        super().__init__(**kwargs)
        self.num_nodes = num_nodes

    def call(self, x):
        return ops.reshape(x, (-1, self.num_nodes, x.shape[-1]))

    def compute_output_shape(self, input_shape):
        return (None, self.num_nodes, input_shape[-1])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MaskedLogits(ZooLayer):
    """Next-node logits (B, N, N) with padded target columns set to MASK_LOGIT (node_mask (B, N) in {0, 1})."""

    def call(self, logits, node_mask):
        return ops.where(node_mask[:, None, :] > 0.5, logits, MASK_LOGIT)

    def compute_output_shape(self, logits_shape, node_mask_shape):
        return logits_shape

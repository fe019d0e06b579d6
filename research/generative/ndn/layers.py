"""Dense triplet graph convolution (sg2im's GraphTripleConv on a fully connected, masked graph).

NDN's three modules are stacks of this block. Every ordered pair (i, j) of the N+1 nodes (canvas +
padded elements) is a triplet (subject i, predicate e_ij, object j): an MLP maps concat(h_i, e_ij, h_j)
to (s_ij, e'_ij, o_ij); node i's new feature is a second MLP on the average of the s_ij where i is the
subject and the o_ji where i is the object, over valid pairs only (pair_mask). Fixed N keeps the shapes
static for XLA and SavedModel export; padded nodes are zeroed after each block.
"""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="ndn")
class TripletGraphConv(layers.Layer):
    """One graph convolution; nodes (B, N, D) and edges (B, N, N, D) in, the same shapes out."""

    def __init__(self, dim: int, hidden: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.hidden = hidden or dim
        self.net1_a = layers.Dense(self.hidden, activation="relu", name="net1_a")
        self.net1_b = layers.Dense(3 * dim, activation="relu", name="net1_b")
        self.net2_a = layers.Dense(self.hidden, activation="relu", name="net2_a")
        self.net2_b = layers.Dense(dim, activation="relu", name="net2_b")

    def build(self, nodes_shape, edges_shape=None, pair_mask_shape=None):
        d_in = nodes_shape[-1]
        e_in = edges_shape[-1] if edges_shape is not None else self.dim
        self.net1_a.build((None, 2 * d_in + e_in))
        self.net1_b.build((None, self.hidden))
        self.net2_a.build((None, self.dim))
        self.net2_b.build((None, self.hidden))
        self.built = True

    def call(self, nodes, edges, pair_mask):
        n = nodes.shape[1]
        subj = ops.repeat(ops.expand_dims(nodes, 2), n, axis=2)  # (B, N, N, D): h_i
        obj = ops.repeat(ops.expand_dims(nodes, 1), n, axis=1)  # (B, N, N, D): h_j
        t = self.net1_b(self.net1_a(ops.concatenate([subj, edges, obj], axis=-1)))
        s, e_new, o = t[..., : self.dim], t[..., self.dim : 2 * self.dim], t[..., 2 * self.dim :]
        m = ops.expand_dims(pair_mask, -1)
        pooled = ops.sum(s * m, axis=2) + ops.sum(o * m, axis=1)  # as subject + as object
        count = ops.sum(pair_mask, axis=2) + ops.sum(pair_mask, axis=1)
        pooled = pooled / ops.expand_dims(ops.maximum(count, 1.0), -1)
        node_mask = ops.cast(count > 0, nodes.dtype)
        new_nodes = self.net2_b(self.net2_a(pooled)) * ops.expand_dims(node_mask, -1)
        return new_nodes, e_new * m

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "hidden": self.hidden}


def pair_mask_from(node_mask):
    """(B, N) float node mask -> (B, N, N) mask of valid ordered pairs i != j."""
    n = node_mask.shape[1]
    eye = ops.eye(n, dtype=node_mask.dtype)
    return ops.expand_dims(node_mask, 2) * ops.expand_dims(node_mask, 1) * (1.0 - eye)

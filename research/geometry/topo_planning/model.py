"""The TopoPlan GNN of edbeeching/learning_to_plan (Beeching et al., ECCV 2020): a learned planner on
uncertain topological maps, with the official flags new_bound_net, bound_update and store_hidden on.

Inputs (spec card topo_planning.md "Method"), N node slots (32):
    distances (B, N, N) local Euclidean distances (/ max), linkages (B, N, N) edge probabilities (or 0/1),
    target (B, N) one-hot, features (B, N, F) per-node visual features (when feature_dim > 0),
    node_mask (B, N) 1 for real nodes (0 pads a smaller graph; the authors' graphs always fill the 32).
Graph (train.py GNN.forward):
    x_i = [D_i ; A_i ; t_i ; I_i ; F_i];  r^0 = bound_init(x)
    for k in 1..n_steps: q_ij = bound_update([r_i ; x_i ; r_j ; x_j]); a gru_depth-layer GRU reads q_i1..q_iN
        (batch B*N, length N), its states carried over k (store_hidden); r^k = prod_mlp(last GRU output)
    logits = distribution_function(r^K) (B, N, N), masked on padded target columns; distance =
    distance_regressor(r^K) (B, N, 1) (trained only with --regress_distance, off).
The official outputs are (B*N, N) and (B*N, 1); here they keep the batch axis first: reshape (-1, N) gives
the authors' row order b * N + i. The Keras GRU (reset_after=True, sigmoid gates) is torch's nn.GRU with
the same parameter count; convert.py reorders its gates. Training: losses.weighted_action_loss.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from official.core.base_model import LossTermTrackers, ZooModel
from research.geometry.topo_planning import losses as plan_losses
from research.geometry.topo_planning.layers import (
    GatedBound,
    GroupNodes,
    MaskedLogits,
    NodeCoreFeatures,
    PairGatedBound,
    UnusedParameter,
    official_dense,
)


def official_gru(units: int, last: bool, name: str) -> layers.GRU:
    """One nn.GRU layer as train.py initialises it: xavier per gate block (glorot over (in, 3u) with scale 2 is
    exactly that when in = units), orthogonal recurrent weights, zero input bias."""
    return layers.GRU(units, return_sequences=not last, return_state=True, name=name,
                      kernel_initializer=keras.initializers.VarianceScaling(2.0, "fan_avg", "uniform"),
                      recurrent_initializer="orthogonal", bias_initializer="zeros")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class TopoPlanGNN(LossTermTrackers, ZooModel):
    """The planner GNN (see the module docstring).

    Args:
        num_nodes: N node slots (the authors' graphs: 32).
        feature_dim: per-node feature width F (512; 0 = --use_features off).
        hidden_size: r and GRU width (256).
        gru_depth: stacked GRU layers (2).
        n_steps: message-passing rounds K (6).
        store_hidden: carry the GRU states across rounds (on in the authors' command).
    """

    def __init__(self, num_nodes: int = 32, feature_dim: int = 512, hidden_size: int = 256, gru_depth: int = 2,
                 n_steps: int = 6, store_hidden: bool = True, **kwargs):
        n, h = num_nodes, hidden_size
        inputs = {"distances": keras.Input((n, n), name="distances"), "linkages": keras.Input((n, n), name="linkages"),
                  "target": keras.Input((n,), name="target"), "node_mask": keras.Input((n,), name="node_mask")}
        if feature_dim:
            inputs["features"] = keras.Input((n, feature_dim), name="features")
        x = NodeCoreFeatures(name="node_core_features")(
            inputs["distances"], inputs["linkages"], inputs["target"], inputs.get("features"))
        x = UnusedParameter((1, n, h), name="r_init")(x)
        r = GatedBound(h, name="bound_init")(x)
        update = PairGatedBound(h, name="bound_update")
        grus = [official_gru(h, i == gru_depth - 1, f"gru_{i}") for i in range(gru_depth)]
        prod_mlp = official_dense(h, "prod_mlp")
        group = GroupNodes(n, name="group_nodes")
        states = [None] * gru_depth
        for step in range(n_steps):  # static unroll: n_steps is a constant (XLA-friendly)
            seq = group(update(layers.Concatenate(name=f"r_x_{step}")([r, x])))  # (B * N, N, h)
            for i, gru in enumerate(grus):
                seq, state = gru(seq, initial_state=states[i] if store_hidden else None)
                states[i] = [state]
            r = group(prod_mlp(seq))  # seq: the top layer's last output (B * N, h)
        logits = official_dense(n, "distribution_function")(r)
        logits = MaskedLogits(name="next_node_logits", dtype="float32")(logits, inputs["node_mask"])
        distance = official_dense(1, "distance_regressor")(r)
        super().__init__(inputs=inputs, outputs={"logits": logits, "distance": distance}, **kwargs)
        self.track_loss_terms(plan_losses.LOSS_TERMS)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """losses.weighted_action_loss against y["actions"] with y["weights"] and the node mask."""
        mask = x["node_mask"] if isinstance(x, dict) else None
        loss = plan_losses.weighted_action_loss(y_pred["logits"], y["actions"], y.get("weights"), mask)
        acc = plan_losses.action_accuracy(y_pred["logits"], y["actions"], mask)
        return self.tracked_total(loss, {"action_loss": loss, "action_accuracy": acc})

    def example_inputs(self, batch: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
        """Random complete graphs in the reader's layout (every node real)."""
        a = self.constructor_args
        n, rng = a["num_nodes"], np.random.default_rng(seed)
        pos = rng.uniform(0, 10, (batch, n, 2))
        dist = np.linalg.norm(pos[:, :, None] - pos[:, None], axis=-1)
        out = {"distances": dist / dist.max(axis=(1, 2), keepdims=True),
               "linkages": rng.uniform(0, 1, (batch, n, n)),
               "target": np.eye(n)[rng.integers(0, n, batch)], "node_mask": np.ones((batch, n))}
        if a["feature_dim"]:
            out["features"] = rng.normal(size=(batch, n, a["feature_dim"]))
        return {k: v.astype(np.float32) for k, v in out.items()}

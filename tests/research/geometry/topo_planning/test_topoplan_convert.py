"""Official GNN checkpoints -> TopoPlanGNN (METHOD_CONTRACT item 8; the authors' best_model.pth blob is not
published): a train.py-style checkpoint {'model', 'optim', 'hyp', 'epoch'} whose state dict has the official key
names and shapes (torch modules under GNN's attribute names, tiny widths) converts through
tools.convert_checkpoint, and the Keras model equals a torch forward of the spec's equations with torch's own
nn.GRU (gate order r, z, n). Parity with the authors' module itself: benchmarks/topoplan_torch_parity.py."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch  # noqa: E402  (the convert extra; required)

nn = torch.nn

N, F, H, DEPTH, STEPS = 32, 8, 16, 2, 2  # 2 rounds: the GRU states carried over a round


class Bound(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(i, i), nn.Linear(i, o)

    def forward(self, v):
        return self.linear2(torch.sigmoid(self.linear1(v)) * v)


class Head(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.mlp = nn.Linear(i, o)


def official_like_net() -> nn.Module:
    """Modules under train.py GNN's attribute names (state_dict() has the official keys)."""
    torch.manual_seed(0)
    net = nn.Module()
    size = 3 * N + 1 + F
    net.bound_init, net.bound_update = Bound(size, H), Bound(2 * (size + H), H)
    net.distribution_function, net.prod_mlp, net.distance_regressor = Head(H, N), Head(H, H), Head(H, 1)
    net.r_init = nn.Parameter(torch.randn(1, N, H))
    net.gru = nn.GRU(H, H, DEPTH, batch_first=True)
    with torch.no_grad():
        for p in net.gru.parameters():
            p.mul_(3.0)  # gates away from 0.5, so a swapped r / z would show
    return net.eval()


def torch_forward(net, d, a, t, f):
    b = d.shape[0]
    x = torch.cat([d, a, t[..., None], torch.eye(N).expand(b, N, N), f], -1)
    r, h = net.bound_init(x), None
    for _ in range(STEPS):
        z = torch.cat([r, x], -1)
        k = z.shape[-1]
        pairs = torch.cat([z[:, :, None].expand(b, N, N, k), z[:, None].expand(b, N, N, k)], -1).reshape(b * N, N, 2 * k)
        out, h = net.gru(net.bound_update(pairs), h)
        r = net.prod_mlp.mlp(out[:, -1]).view(b, N, H)
    flat = r.reshape(b * N, H)
    return net.distribution_function.mlp(flat), net.distance_regressor.mlp(flat)


def test_converted_checkpoint_matches_torch(tmp_path):
    import keras

    import research.geometry.topo_planning  # noqa: F401  (registration)
    from tools.convert_checkpoint import convert

    net = official_like_net()
    src = os.path.join(str(tmp_path), "best_model.pth")
    hyp = {"n_steps": STEPS, "new_bound_net": True, "bound_update": True, "store_hidden": True, "batch_size": 2}
    torch.save({"model": net.state_dict(), "hyp": hyp, "epoch": 3}, src)
    result = convert("pytorch", "topo_planning_tiny", src, str(tmp_path / "converted"))
    assert result["tensors"] == len(net.state_dict()) - 2 * DEPTH + DEPTH  # two GRU biases -> one variable per layer
    model = keras.saving.load_model(result["outputs"]["model.keras"])
    assert model.constructor_args["n_steps"] == STEPS and model.constructor_args["feature_dim"] == F
    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 10, (2, N, 2))
    dist = np.linalg.norm(pos[:, :, None] - pos[:, None], axis=-1)
    inputs = {"distances": dist / dist.max(), "linkages": rng.uniform(0, 1, (2, N, N)),
              "target": np.eye(N)[[3, 17]], "features": rng.normal(size=(2, N, F)), "node_mask": np.ones((2, N))}
    inputs = {k: v.astype(np.float32) for k, v in inputs.items()}
    with torch.no_grad():
        want = torch_forward(net, *(torch.from_numpy(inputs[k]) for k in ("distances", "linkages", "target", "features")))
    got = model(inputs, training=False)
    np.testing.assert_allclose(np.asarray(got["logits"]).reshape(-1, N), want[0].numpy(), atol=2e-5)
    np.testing.assert_allclose(np.asarray(got["distance"]).reshape(-1, 1), want[1].numpy(), atol=2e-5)
    assert float(np.ptp(want[0].numpy())) > 0.5


def test_bad_checkpoints_name_the_key(tmp_path):
    import research.geometry.topo_planning  # noqa: F401
    from official.core import registry
    from official.core.checkpoint_convert import ConversionError
    from research.geometry.topo_planning import convert

    state = {k: v.numpy() for k, v in official_like_net().state_dict().items()}
    model = registry.create_model("topo_planning_tiny", **convert.infer_model_kwargs(state))
    with pytest.raises(ConversionError, match=r"no 'bound_update\.linear1\.weight'"):
        convert.load_state_dict(model, {k: v for k, v in state.items() if k != "bound_update.linear1.weight"})
    with pytest.raises(ConversionError, match=r"'prod_mlp\.mlp\.weight' has shape"):
        convert.load_state_dict(model, {**state, "prod_mlp.mlp.weight": state["prod_mlp.mlp.weight"][:, :4]})
    with pytest.raises(ConversionError, match=r"'no_gru_linear\.mlp\.weight' has no place"):
        convert.load_state_dict(model, {**state, "no_gru_linear.mlp.weight": state["prod_mlp.mlp.weight"]})
    with pytest.raises(ConversionError, match="hyp 'bound_update' is False"):
        convert.hyp_overrides({"bound_update": False}, "x.pth")

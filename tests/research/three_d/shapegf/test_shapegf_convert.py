"""ShapeGF converter (METHOD_CONTRACT item 8): a state dict with the official key names and shapes (fixture
derived from the official modules: enc / sn / gen / dis of a generation checkpoint) converts strictly, the
unused generator BNs and the critic are reported as skipped, and the converted network equals a numpy
forward written from the official modules on those tensors (eval-mode BN)."""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import pytest

from official.core.checkpoint_convert import ConversionError
from research.three_d.shapegf import convert
from research.three_d.shapegf.model import ShapeGF

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "official_keys.json")


def _state(rng):
    keys = json.load(open(FIXTURE))
    state = {}
    for part, entries in keys.items():
        state[part] = {}
        for key, shape in entries.items():
            if key.endswith("num_batches_tracked"):
                state[part][key] = np.array(7)
            elif key.endswith("running_var") or (key.endswith(".weight") and len(shape) == 1):
                state[part][key] = rng.uniform(0.5, 1.5, shape).astype("float32")
            else:
                fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 100
                state[part][key] = rng.normal(0, fan_in ** -0.5, shape).astype("float32")
    return {**state, "epoch": 3, "step": 10}


def _bn(x, sd, p):
    return (x - sd[f"{p}.running_mean"]) / np.sqrt(sd[f"{p}.running_var"] + 1e-5) * sd[f"{p}.weight"] + sd[f"{p}.bias"]


def _lin(x, sd, p):
    w = sd[f"{p}.weight"]
    return x @ w.reshape(w.shape[0], w.shape[1]).T + sd[f"{p}.bias"]


def _numpy_forward(state, points, sigma, prior):
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    enc, sn, gen = state["enc"], state["sn"], state["gen"]
    x = points
    for i in range(1, 5):
        x = _bn(_lin(x, enc, f"conv{i}"), enc, f"bn{i}")
        x = relu(x) if i < 4 else x
    x = x.max(1)
    for i in (1, 2):
        x = relu(_bn(_lin(x, enc, f"fc{i}"), enc, f"fc_bn{i}"))
    z = _lin(x, enc, "fc3")
    c = np.concatenate([points, np.broadcast_to(np.c_[z, sigma][:, None], (*points.shape[:2], z.shape[1] + 1))], -1)
    net = _lin(c, sn, "conv_p")
    for i in range(24):
        p = f"blocks.{i}"
        h = _lin(relu(_bn(net, sn, f"{p}.bn_0")), sn, f"{p}.fc_0")
        net = net + _lin(relu(_bn(h, sn, f"{p}.bn_1")), sn, f"{p}.fc_1") + _lin(c, sn, f"{p}.fc_c")
    field = _lin(relu(_bn(net, sn, "bn_out")), sn, "conv_out")
    y = prior
    for i in (0, 1):
        y = relu(_lin(y, gen, f"layers.{i}"))
    return z, field, _lin(y, gen, "out")


def test_official_keys_convert_and_match_a_numpy_forward():
    state = _state(np.random.default_rng(0))
    flat = convert.flatten_checkpoint(state)
    kwargs = convert.infer_model_kwargs(flat)
    assert kwargs == {"zdim": 128, "hidden": 256, "blocks": 24, "conv_widths": (128, 128, 256, 512),
                      "fc_widths": (256, 128), "generator_dims": (256, 256)}
    model = ShapeGF(**kwargs)
    report = convert.load_state_dict(model, state)
    assert len(report.assigned) == len(model.weights) == 388  # enc 38 + sn 344 + gen 6 (BN moving stats included)
    skipped = set(report.skipped)
    assert {k for k in skipped if not k.endswith("num_batches_tracked")} == {
        *(f"gen.bns.{i}.{n}" for i in (0, 1) for n in ("weight", "bias", "running_mean", "running_var")),
        *(f"gen.out_bn.{n}" for n in ("weight", "bias", "running_mean", "running_var")),
        *(f"dis.{k}" for k in state["dis"])}
    # the dead generator BNs are PyTorch's 1,280 extra parameters of the card
    assert sum(np.size(v) for k, v in state["gen"].items() if k.startswith(("bns.", "out_bn.")) and k.endswith(("weight", "bias"))) == 1280
    rng = np.random.default_rng(1)
    points = rng.uniform(-1, 1, (2, 16, 3)).astype("float32")
    sigma = np.array([0.5, 0.05], "float32")
    prior = rng.normal(size=(2, 128)).astype("float32")
    out = model({"points": points, "sigma": sigma[:, None], "prior": prior}, training=False)
    z, field, z_fake = _numpy_forward(state, points.astype(np.float64), sigma, prior)
    np.testing.assert_allclose(out["z"], z, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out["field"], field, rtol=1e-3, atol=2e-3 * np.abs(field).max())
    np.testing.assert_allclose(out["z_fake"], z_fake, rtol=1e-4, atol=1e-4)


def test_strict_errors_name_the_key():
    keras.utils.set_random_seed(0)
    state = _state(np.random.default_rng(2))
    model = ShapeGF(**convert.infer_model_kwargs(convert.flatten_checkpoint(state)))
    broken = {**state, "sn": {k: v for k, v in state["sn"].items() if k != "blocks.3.fc_1.weight"}}
    with pytest.raises(ConversionError, match="blocks.3.fc_1.weight"):
        convert.load_state_dict(model, broken)
    extra = {**state, "enc": {**state["enc"], "fc_bn3.weight": np.ones(4, "float32")}}
    with pytest.raises(ConversionError, match="fc_bn3.weight"):
        convert.load_state_dict(model, extra)
    with pytest.raises(ConversionError, match="sn.conv_p.weight"):
        convert.infer_model_kwargs({"enc": state["enc"]})

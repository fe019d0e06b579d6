"""TCGM's nets (research/multimodal/tcgm): parameter counts (spec card check 5), the fused output, and the
official per-view state dict (key names and shapes of models/model.py `Logistic`) converted and run against
a NumPy forward of Linear-BN-ReLU (eval mode). The authors' own module: benchmarks/tcgm_torch_parity.py."""

from __future__ import annotations

import numpy as np
import pytest

from official.core import registry
from official.core.checkpoint_convert import ConversionError
from research.multimodal.tcgm import convert, losses


def test_check5_parameter_counts():
    model = registry.create_model("tcgm_mlp512")
    per_view = [sum(int(np.prod(w.shape)) for w in model.trainable_weights if w.path.startswith(f"view{m}_"))
                for m in range(3)]
    # Linear 4000->512 (2,048,512) + BN 512 (1,024) + Linear 512->64 (32,832) + BN 64 (128) + Linear 64->4 (260)
    assert per_view == [2_082_756] * 3
    assert model.trainable_parameter_count == 6_248_268
    # view 32 -> 64 (2,112) + BN (128) + 64 -> 32 (2,080) + BN (64) + 32 -> 10 (330) = 4,714 per view
    assert registry.create_model("tcgm_tiny").trainable_parameter_count == 9_428


def official_state(dims=(6, 5), hidden=(4, 3), classes=3, seed=0) -> dict[str, np.ndarray]:
    """Random tensors under the official names "<view>.fc1.weight" (out, in), "<view>.bn1.running_var", ..."""
    rng = np.random.default_rng(seed)
    state = {}
    for i, d in enumerate(dims, start=1):
        widths = (d, *hidden, classes)
        for k in range(1, len(widths)):
            state[f"{i}.fc{k}.weight"] = rng.normal(size=(widths[k], widths[k - 1])).astype(np.float32)
            state[f"{i}.fc{k}.bias"] = rng.normal(size=(widths[k],)).astype(np.float32)
            if k < len(widths) - 1:
                state[f"{i}.bn{k}.weight"] = rng.uniform(0.5, 1.5, widths[k]).astype(np.float32)
                state[f"{i}.bn{k}.bias"] = rng.normal(size=(widths[k],)).astype(np.float32)
                state[f"{i}.bn{k}.running_mean"] = rng.normal(size=(widths[k],)).astype(np.float32)
                state[f"{i}.bn{k}.running_var"] = rng.uniform(0.5, 2, widths[k]).astype(np.float32)
                state[f"{i}.bn{k}.num_batches_tracked"] = np.array(7)
    return state


def numpy_forward(state, i: int, x, hidden_layers: int = 2):
    for k in range(1, hidden_layers + 2):
        x = x @ state[f"{i}.fc{k}.weight"].T + state[f"{i}.fc{k}.bias"]
        if k <= hidden_layers:
            g, b, mu, var = (state[f"{i}.bn{k}.{n}"] for n in ("weight", "bias", "running_mean", "running_var"))
            x = np.maximum((x - mu) / np.sqrt(var + 1e-5) * g + b, 0)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_official_state_dict_converts_and_fuses():
    state = official_state()
    kwargs = convert.infer_model_kwargs(state)
    assert kwargs == {"view_dims": (6, 5), "hidden_units": (4, 3), "num_classes": 3}
    model = registry.create_model("tcgm_tiny", **kwargs)
    assert convert.load_state_dict(model, state) == len(state)
    rng = np.random.default_rng(1)
    x = {"view_0": rng.normal(size=(4, 6)).astype(np.float32), "view_1": rng.normal(size=(4, 5)).astype(np.float32)}
    out = model(x, training=False)
    want = np.stack([numpy_forward(state, 1, x["view_0"]), numpy_forward(state, 2, x["view_1"])], 1)
    np.testing.assert_allclose(np.asarray(out["log_probs"]), want, atol=1e-5)
    assert np.ptp(want) > 1.0
    # uniform prior: the fusion's argmax is the official test()'s argmax of the summed log-softmax outputs
    fused = np.asarray(out["fused_log_probs"])
    np.testing.assert_array_equal(fused.argmax(-1), want.sum(1).argmax(-1))
    np.testing.assert_allclose(fused, np.asarray(losses.fuse_log_probs(want, np.full(3, 1 / 3))), atol=1e-5)
    with pytest.raises(ConversionError, match=r"checkpoint has no '2\.bn1\.running_var'"):
        convert.load_state_dict(model, {k: v for k, v in state.items() if k != "2.bn1.running_var"})
    with pytest.raises(ConversionError, match=r"'1\.fc2\.weight' has shape \(4, 4\)"):
        convert.load_state_dict(model, {**state, "1.fc2.weight": np.zeros((4, 4))})
    with pytest.raises(ConversionError, match=r"'3\.fc1\.weight' has no place"):
        convert.load_state_dict(model, {**state, "3.fc1.weight": np.zeros((4, 6))})

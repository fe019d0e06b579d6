"""PyTorch weights of the official per-view nets (20news_dataset/models/model.py `Logistic`) -> TcgmNet.

The authors released no weights (spec card: "No official weights"); this loads nets trained with their code
and serves the parity check benchmarks/tcgm_torch_parity.py. The official script keeps one module per view,
`Net = {1: Logistic(), 2: ..., M: ...}`; a checkpoint here is one dict with keys "<view>.<module key>", view
numbered from 1 as in `Net` (torch.save({f"{i}.{k}": v for i in Net for k, v in Net[i].state_dict().items()})).
Per view: fc{k}.weight (out, in) -> view{m}_fc{k} kernel (in, out), fc{k}.bias; bn{k}.weight / bias /
running_mean / running_var -> gamma / beta / moving_mean / moving_variance (num_batches_tracked is unused).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from official.core.checkpoint_convert import ConversionError


def _take(state: dict, key: str, shape: tuple) -> np.ndarray:
    if key not in state:
        raise ConversionError(f"checkpoint has no '{key}'")
    value = np.asarray(state[key], np.float32)
    if value.shape != tuple(shape):
        raise ConversionError(f"'{key}' has shape {value.shape}, the model expects {tuple(shape)}")
    return value


def load_state_dict(model, state: dict[str, Any]) -> int:
    """Assigns the official per-view tensors to `model`; returns how many tensors were used."""
    state = {k: (v.numpy() if hasattr(v, "numpy") else np.asarray(v)) for k, v in state.items()}
    used = set()
    hidden = model.constructor_args["hidden_units"]
    for m in range(model.num_views):
        for k in range(1, len(hidden) + 2):
            dense = model.get_layer(f"view{m}_fc{k}")
            kernel_shape = tuple(dense.kernel.shape)
            w = _take(state, f"{m + 1}.fc{k}.weight", kernel_shape[::-1])
            b = _take(state, f"{m + 1}.fc{k}.bias", kernel_shape[1:])
            dense.set_weights([w.T, b])
            used |= {f"{m + 1}.fc{k}.weight", f"{m + 1}.fc{k}.bias"}
            if k <= len(hidden):
                bn = model.get_layer(f"view{m}_bn{k}")
                names = ("weight", "bias", "running_mean", "running_var")
                bn.set_weights([_take(state, f"{m + 1}.bn{k}.{n}", (hidden[k - 1],)) for n in names])
                used |= {f"{m + 1}.bn{k}.{n}" for n in (*names, "num_batches_tracked")}
    extra = sorted(k for k in state if k not in used)
    if extra:
        raise ConversionError(f"'{extra[0]}' has no place in {model.name}")
    return len(used & set(state))


def infer_model_kwargs(state: dict[str, Any]) -> dict:
    """view_dims, hidden_units and num_classes read off the tensor shapes."""
    views = sorted({int(k.split(".")[0]) for k in state})
    dims = tuple(int(np.shape(state[f"{i}.fc1.weight"])[1]) for i in views)
    layers = sorted({int(k.split(".")[1][2:]) for k in state if k.split(".")[1].startswith("fc")})
    hidden = tuple(int(np.shape(state[f"1.fc{k}.weight"])[0]) for k in layers[:-1])
    return {"view_dims": dims, "hidden_units": hidden, "num_classes": int(np.shape(state[f"1.fc{layers[-1]}.weight"])[0])}


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides) -> dict:
    import torch

    from official.core import registry

    state = torch.load(src, map_location="cpu", weights_only=not allow_pickle)
    if checkpoint_key:
        state = state[checkpoint_key]
    model = registry.create_model(model_name, **{**infer_model_kwargs(state), **overrides})
    n = load_state_dict(model, state)
    os.makedirs(dst, exist_ok=True)
    outputs = {"model.weights.h5": os.path.join(dst, "model.weights.h5"), "model.keras": os.path.join(dst, "model.keras")}
    model.save_weights(outputs["model.weights.h5"])
    model.save(outputs["model.keras"])
    return {"tensors": n, "skipped": 0, "outputs": outputs}


CONVERTERS = {"pytorch": convert_pytorch}

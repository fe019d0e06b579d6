"""The authors' GNN checkpoint (train.py --save_model: {'model': state_dict, 'optim', 'hyp', 'epoch'}) -> TopoPlanGNN.

    python -m tools.convert_checkpoint --from=pytorch --model=topo_planning_gnn256 --src=best_model.pth --dst=DIR

The repository lists models/best_model.pth but its blob is not published (spec card), so this is tested on
state dicts with the official key names and shapes. Keys (train.py GNN with new_bound_net, bound_update):
  bound_init.linear{1,2}.{weight,bias}, bound_update.linear{1,2}.{weight,bias}   (torch Linear (out, in))
  gru.{weight_ih,weight_hh,bias_ih,bias_hh}_l{k}                                  (nn.GRU, gates r, z, n)
  prod_mlp.mlp.*, distribution_function.mlp.*, distance_regressor.mlp.*, r_init (1, N, hidden)
Keras' GRU keeps the gates as z, r, h and both biases in one (2, 3u) variable; no_gru_linear (--no_gru) and the
other flags' modules are not built. `hyp` (when present) supplies n_steps and must have the flags this
model implements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from official.core.checkpoint_convert import (
    ConversionError,
    ConversionReport,
    WeightEntry,
    assign_strict,
    check_destination,
    convert_state_dict,
    read_pytorch_checkpoint,
    to_arrays,
    unwrap_state_dict,
)
from research.geometry.topo_planning.model import TopoPlanGNN

DENSES = {"prod_mlp": "prod_mlp.mlp", "distribution_function": "distribution_function.mlp",
          "distance_regressor": "distance_regressor.mlp"}
REQUIRED_FLAGS = {"new_bound_net": True, "bound_update": True, "no_gru": False, "use_mscl": False, "true_mlp": False,
                  "mlp_relu": False, "use_positions": False, "use_resnet_features": False, "mod_drop": False}


def gru_gates(w: np.ndarray) -> np.ndarray:
    """torch's gate blocks (r, z, n) along axis 0 -> Keras' order (z, r, h)."""
    r, z, n = np.split(w, 3, axis=0)
    return np.concatenate([z, r, n], axis=0)


def _t(w: np.ndarray) -> np.ndarray:
    return w.T


def weight_map(model: TopoPlanGNN) -> list[WeightEntry]:
    """(official key, Keras variable, transform); the GRU biases come as one derived key per layer."""
    entries: list[WeightEntry] = []
    init = model.get_layer("bound_init")
    for name in ("linear1", "linear2"):
        layer = getattr(init, name)
        entries += [(f"bound_init.{name}.weight", layer.kernel, _t), (f"bound_init.{name}.bias", layer.bias, None)]
    update = model.get_layer("bound_update")
    entries += [("bound_update.linear1.weight", update.gate_kernel, _t), ("bound_update.linear1.bias", update.gate_bias, None),
                ("bound_update.linear2.weight", update.out_kernel, _t), ("bound_update.linear2.bias", update.out_bias, None)]
    for k in range(model.constructor_args["gru_depth"]):
        cell = model.get_layer(f"gru_{k}").cell
        entries += [(f"gru.weight_ih_l{k}", cell.kernel, lambda w: gru_gates(w).T),
                    (f"gru.weight_hh_l{k}", cell.recurrent_kernel, lambda w: gru_gates(w).T),
                    (f"gru.bias_l{k}", cell.bias, None)]  # stacked from bias_ih / bias_hh by _merge_gru_biases
    for name, key in DENSES.items():
        layer = model.get_layer(name)
        entries += [(f"{key}.weight", layer.kernel, _t), (f"{key}.bias", layer.bias, None)]
    entries.append(("r_init", model.get_layer("r_init").value, None))
    return entries


def _merge_gru_biases(arrays: dict[str, np.ndarray], depth: int) -> dict[str, np.ndarray]:
    """bias_ih_l{k}, bias_hh_l{k} -> gru.bias_l{k} = [input bias ; recurrent bias], gates reordered."""
    out = dict(arrays)
    for k in range(depth):
        for part in ("ih", "hh"):
            if f"gru.bias_{part}_l{k}" not in out:
                raise ConversionError(f"checkpoint has no 'gru.bias_{part}_l{k}' (a {depth}-layer GRU has both biases)")
        out[f"gru.bias_l{k}"] = np.stack([gru_gates(out.pop(f"gru.bias_ih_l{k}")), gru_gates(out.pop(f"gru.bias_hh_l{k}"))])
    return out


def load_state_dict(model: TopoPlanGNN, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official state dict into `model` (strict: every tensor read, every weight filled)."""
    arrays = _merge_gru_biases(unwrap_state_dict(to_arrays(state_dict)), model.constructor_args["gru_depth"])
    report = assign_strict(model, weight_map(model), arrays, hints={
        "missing": "; a TopoPlan GNN state dict has bound_init.linear1.weight, gru.weight_ih_l0, ...",
        "unexpected": "; is this learning_to_plan's GNN trained with --new_bound_net --bound_update?",
    })
    return report


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Widths fixed by the checkpoint: N (distribution_function), hidden, GRU depth and the feature width."""
    shape = {k: tuple(np.shape(v)) for k, v in unwrap_state_dict(dict(state_dict)).items()}
    out: dict[str, Any] = {}
    if len(shape.get("distribution_function.mlp.weight", ())) == 2:
        out["num_nodes"] = n = shape["distribution_function.mlp.weight"][0]
        out["hidden_size"] = shape["distribution_function.mlp.weight"][1]
        if len(shape.get("bound_init.linear1.weight", ())) == 2:
            out["feature_dim"] = shape["bound_init.linear1.weight"][1] - (3 * n + 1)
    depth = sum(k.startswith("gru.weight_ih_l") for k in shape)
    if depth:
        out["gru_depth"] = depth
    return out


def hyp_overrides(hyp: Mapping[str, Any], src: str) -> dict[str, Any]:
    """n_steps (and store_hidden) from a checkpoint's `hyp` (train.py's args); flags this model lacks are errors."""
    for flag, want in REQUIRED_FLAGS.items():
        if flag in hyp and bool(hyp[flag]) != want:
            raise ConversionError(f"{src}: hyp '{flag}' is {hyp[flag]!r}; TopoPlanGNN implements {flag}={want}")
    return {k: hyp[k] for k in ("n_steps", "store_hidden") if k in hyp}


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered `model_name` into folder `dst`."""
    check_destination(dst)
    checkpoint = read_pytorch_checkpoint(src, allow_pickle)
    hyp = checkpoint.get("hyp") if isinstance(checkpoint, Mapping) else None
    if isinstance(hyp, Mapping):
        overrides = {**hyp_overrides(hyp, src), **overrides}
    state = unwrap_state_dict(checkpoint, checkpoint_key)
    return convert_state_dict(state, src, dst, model_name, TopoPlanGNN, load_state_dict, infer_model_kwargs, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

"""The authors' lang_sup_criterion checkpoint (CapInfoNCE, torch.save({'state_dict': ..., 'step': ...})) -> the
`InfoGround` head.

    python -m tools.convert_checkpoint --from=pytorch --model=info_ground_bert_base --src=lang_sup_criterion_best --dst=DIR

Keys (exp/ground/models/factored_cap_info_nce_loss.py, cap_info_nce_layers = 2): `fo.f_layer.{0,1,3}.*` and
`fw.f_layer.{0,1,3}.*` (FLayer), `ku.K_layer.{0,1,3}.*` and `kw.K_layer.{0,1,3}.*` (KLayer); index 0 = Linear
(in, in) (weight (out, in): transposed), 1 = BatchNorm1d (weight, bias, running_mean, running_var;
num_batches_tracked skipped), 3 = Linear (in, d). The BERT text encoder is keras-hub's (its own converters).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from official.core.checkpoint_convert import (
    ConversionReport,
    WeightEntry,
    assign_strict,
    convert_pytorch_checkpoint,
    to_arrays,
    unwrap_state_dict,
)
from research.multimodal.info_ground.model import InfoGround

MODULES = {"fo": "f_layer", "fw": "f_layer", "ku": "K_layer", "kw": "K_layer"}


def _linear(w: np.ndarray) -> np.ndarray:
    return w.T


def weight_map(model: InfoGround) -> list[WeightEntry]:
    """(official key, Keras variable, transform) for every weight of the head."""
    entries: list[WeightEntry] = []
    for name, seq in MODULES.items():
        mlp = getattr(model.criterion, name)
        index = 0
        for dense, norm in zip(mlp.hidden, mlp.norms, strict=True):
            entries += [(f"{name}.{seq}.{index}.weight", dense.kernel, _linear), (f"{name}.{seq}.{index}.bias", dense.bias, None)]
            entries += [(f"{name}.{seq}.{index + 1}.weight", norm.gamma, None), (f"{name}.{seq}.{index + 1}.bias", norm.beta, None),
                        (f"{name}.{seq}.{index + 1}.running_mean", norm.moving_mean, None),
                        (f"{name}.{seq}.{index + 1}.running_var", norm.moving_variance, None)]
            index += 3  # Linear, BatchNorm1d, ReLU
        key = f"{name}.{seq}.{index}" if mlp.hidden else f"{name}.{seq}"
        entries += [(f"{key}.weight", mlp.out.kernel, _linear), (f"{key}.bias", mlp.out.bias, None)]
    return entries


def load_state_dict(model: InfoGround, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official CapInfoNCE state dict into `model` (strict both ways)."""
    return assign_strict(model, weight_map(model), unwrap_state_dict(to_arrays(state_dict)), hints={
        "missing": "; a lang_sup_criterion state dict has fo.f_layer.0.weight, ku.K_layer.0.weight, ...",
        "unexpected": "; is this the lang_sup_criterion (CapInfoNCE) checkpoint of info-ground?"})


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Widths fixed by the checkpoint: region_dim, word_dim, dim and the MLP depth."""
    arrays = unwrap_state_dict(dict(state_dict))
    shape = {k: tuple(np.shape(v)) for k, v in arrays.items()}
    linears = sorted(int(k.split(".")[2]) for k in shape if k.startswith("fo.f_layer.") and k.endswith(".weight")
                     and len(shape[k]) == 2)
    out: dict[str, Any] = {}
    if linears:
        out["mlp_layers"] = len(linears)
        out["region_dim"] = shape[f"fo.f_layer.{linears[0]}.weight"][1]
        out["dim"] = shape[f"fo.f_layer.{linears[-1]}.weight"][0]
        if f"fw.f_layer.{linears[0]}.weight" in shape:
            out["word_dim"] = shape[f"fw.f_layer.{linears[0]}.weight"][1]
    return out


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered `model_name` into folder `dst`."""
    return convert_pytorch_checkpoint(src, dst, model_name, InfoGround, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

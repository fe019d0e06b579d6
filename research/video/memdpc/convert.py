"""The authors' MemDPC state dicts (TengdaHan/MemDPC main.py / eval/test.py checkpoints) -> MemDpc / MemDpcClassifier.

    python -m tools.convert_checkpoint --from=pytorch --model=memdpc_r2d3d34 --src=model_best.pth.tar --dst=DIR

Keys (memdpc/model.py MemDPC_BD, eval/model_lc.py LC; `module.` stripped): `backbone.conv1.weight` (Conv3d
(out, in, t, h, w) -> Keras (t, h, w, in, out)), `backbone.bn1.{weight,bias,running_mean,running_var}`,
`backbone.layer{1-4}.{i}.{conv1,bn1,conv2,bn2}.*`, `backbone.layer{2-4}.0.downsample.{0,1}.*`;
`agg_{f,b}.ConvGRUCell_00.{reset,update,out}_gate.{weight,bias}` (the same tensors also appear as
`agg_{f,b}.cell_list.0.*`: one is read, the other must be equal and is listed as skipped); MemDPC_BD adds
`mb` (mem_size, c) and `network_pred.{0,2}.{weight,bias}`; LC adds `final_bn.*` and `final_fc.1.{weight,bias}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from official.core import registry
from official.core.checkpoint_convert import (
    ConversionError,
    ConversionReport,
    WeightEntry,
    assign_strict,
    convert_pytorch_checkpoint,
    to_arrays,
    torch_conv,
    unwrap_state_dict,
)
from research.video.memdpc.model import MemDpc, MemDpcClassifier


def conv3d(w: np.ndarray) -> np.ndarray:
    """PyTorch Conv3d weight (out, in, t, h, w) -> Keras Conv3D kernel (t, h, w, in, out)."""
    return np.transpose(w, (2, 3, 4, 1, 0))


def _bn(prefix: str, layer) -> list[WeightEntry]:
    return [(f"{prefix}.weight", layer.gamma, None), (f"{prefix}.bias", layer.beta, None),
            (f"{prefix}.running_mean", layer.moving_mean, None), (f"{prefix}.running_var", layer.moving_variance, None)]


def _gru(prefix: str, gru) -> list[WeightEntry]:
    out = []
    for gate in ("reset_gate", "update_gate", "out_gate"):
        layer = getattr(gru, gate)
        out += [(f"{prefix}.ConvGRUCell_00.{gate}.weight", layer.kernel, torch_conv),
                (f"{prefix}.ConvGRUCell_00.{gate}.bias", layer.bias, None)]
    return out


def weight_map(model) -> list[WeightEntry]:
    """(official key, Keras variable, transform) for every weight of a MemDpc or MemDpcClassifier."""
    entries: list[WeightEntry] = []
    for layer in model.get_layer("blocks").layer.layers:
        key = "backbone." + layer.name.replace("_", ".")  # layer3_0_downsample_1 -> layer3.0.downsample.1
        if layer.__class__.__name__ == "Conv3D":
            entries.append((f"{key}.weight", layer.kernel, conv3d))
        elif layer.__class__.__name__ == "BatchNormalization":
            entries += _bn(key, layer)
    if isinstance(model, MemDpc):
        head = model.get_layer("memdpc")
        entries += _gru("agg_f", head.agg_f) + _gru("agg_b", head.agg_b)
        mem = head.predictor
        entries.append(("mb", mem.memory, None))
        for i, conv in ((0, mem.pred_0), (2, mem.pred_2)):
            entries += [(f"network_pred.{i}.weight", conv.kernel, torch_conv), (f"network_pred.{i}.bias", conv.bias, None)]
    else:
        ctx = model.get_layer("context")
        entries += _gru("agg_f", ctx.agg_f) + _gru("agg_b", ctx.agg_b) + _bn("final_bn", model.get_layer("final_bn"))
        fc = model.get_layer("final_fc")
        entries += [("final_fc.1.weight", fc.kernel, lambda w: w.T), ("final_fc.1.bias", fc.bias, None)]
    return entries


def _merge_cell_aliases(arrays: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[str]]:
    """`agg_x.cell_list.0.*` duplicates `agg_x.ConvGRUCell_00.*` (one module under two names): keep one."""
    out, skipped = {}, []
    for key, value in arrays.items():
        alias = re.sub(r"\.cell_list\.0\.", ".ConvGRUCell_00.", key)
        if alias != key:
            if alias in arrays and not np.array_equal(arrays[alias], value):
                raise ConversionError(f"'{key}' differs from '{alias}' (the same ConvGRU cell under two names)")
            skipped.append(key)
            if alias in arrays:
                continue
        out[alias] = value
    return out, skipped


def load_state_dict(model, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official state dict into `model` (strict: every tensor read, every weight filled)."""
    arrays, aliases = _merge_cell_aliases(unwrap_state_dict(to_arrays(state_dict)))
    report = assign_strict(model, weight_map(model), arrays, hints={
        "missing": "; a MemDPC state dict has backbone.conv1.weight, agg_f.ConvGRUCell_00.reset_gate.weight, mb ...",
        "unexpected": "; a MemDPC_BD (pretext) checkpoint needs a memdpc_* model, an LC (eval) one a memdpc_*_lc model",
    })
    return ConversionReport(report.assigned, sorted(report.skipped + aliases))


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Depths, widths, memory size and classes fixed by the checkpoint (the input size is not)."""
    arrays = unwrap_state_dict(dict(state_dict))
    shape = {k: tuple(np.shape(v)) for k, v in arrays.items()}
    out: dict[str, Any] = {}
    depths, widths = [], []
    for s in range(1, 5):
        blocks = {int(m.group(1)) for k in shape if (m := re.match(rf"backbone\.layer{s}\.(\d+)\.conv1\.weight$", k))}
        if blocks:
            depths.append(max(blocks) + 1)
            widths.append(shape[f"backbone.layer{s}.0.conv1.weight"][0])
    if len(depths) == 4:
        out["depths"], out["widths"] = tuple(depths), tuple(widths)
    if "mb" in shape:
        out["mem_size"] = shape["mb"][0]
    if "final_fc.1.weight" in shape:
        out["num_classes"] = shape["final_fc.1.weight"][0]
    return out


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered `model_name` into folder `dst`."""
    cls = getattr(registry.get_model_builder(model_name), "model_cls", MemDpc)
    if cls not in (MemDpc, MemDpcClassifier):
        raise ConversionError(f"{model_name} is not a MemDPC model")
    return convert_pytorch_checkpoint(src, dst, model_name, cls, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

"""Official PointContrast checkpoints (MinkowskiEngine 0.4.3 Res16UNet34C) -> our Res16UNet.

`python -m tools.convert_checkpoint --from=pytorch --model=pointcontrast_res16unet34c --src=checkpoint.pth
--dst=DIR [--allow_pickle]` (the released file holds `state_dict` beside an OmegaConf `config` and the
optimizer; DDP's `module.` prefix is stripped). Key layout (model/res16unet.py, ME 0.4.3):
- `<conv>.kernel`: (K, C_in, C_out) with K = k^3 offsets, x fastest (ME `Region` iteration); our
  SparseConv stores the same layout and offset order, so kernels copy as they are;
- 1x1x1 stride-1 convolutions (`blockN.M.downsample.0`, `final`) are ME's `use_mm` case: (C_in, C_out);
- `final.bias`: (1, C_out) -> (C_out,);
- `<bn>.bn.{weight, bias, running_mean, running_var}` (MinkowskiBatchNorm wraps torch BatchNorm1d);
  `num_batches_tracked` is skipped.
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
    convert_pytorch_checkpoint,
    to_arrays,
    unwrap_state_dict,
)
from research.three_d.pointcontrast.layers import SparseBatchNorm, SparseConv
from research.three_d.pointcontrast.model import Res16UNet


def _bias(value: np.ndarray) -> np.ndarray:
    return np.reshape(value, (-1,))


def weight_map(model: Res16UNet) -> list[WeightEntry]:
    """(official key, Keras variable, transform) for every weight of `model`."""
    entries: list[WeightEntry] = []
    for key, layer in model.official_layers().items():
        if isinstance(layer, SparseConv):
            entries.append((f"{key}.kernel", layer.kernel, None))
            if layer.bias is not None:
                entries.append((f"{key}.bias", layer.bias, _bias))
        elif isinstance(layer, SparseBatchNorm):
            entries += [(f"{key}.bn.weight", layer.gamma, None), (f"{key}.bn.bias", layer.beta, None),
                        (f"{key}.bn.running_mean", layer.moving_mean, None),
                        (f"{key}.bn.running_var", layer.moving_variance, None)]
        else:
            raise ConversionError(f"layer {layer.name} ({type(layer).__name__}) has no official counterpart")
    return entries


def load_state_dict(model: Res16UNet, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official state dict into `model` (strict: every tensor used, every weight filled)."""
    arrays = unwrap_state_dict(to_arrays(state_dict))
    return assign_strict(model, weight_map(model), arrays, hints={
        "missing": "; a Res16UNet state dict has conv0p1s1.kernel, block*.*.conv1.kernel, final.kernel ...",
        "unexpected": "; is this a Res16UNet34C checkpoint (PointContrast pretrain/ or semseg)?",
    })


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """in_channels, out_channels and conv1_kernel_size from the first and last kernels."""
    arrays = unwrap_state_dict(dict(state_dict))
    out: dict[str, Any] = {}
    if "conv0p1s1.kernel" in arrays:
        shape = tuple(arrays["conv0p1s1.kernel"].shape)
        out["in_channels"] = int(shape[-2])
        out["conv1_kernel_size"] = round(shape[0] ** (1 / 3)) if len(shape) == 3 else 1
    if "final.kernel" in arrays:
        out["out_channels"] = int(arrays["final.kernel"].shape[-1])
    return out


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered `model_name` into folder `dst`."""
    return convert_pytorch_checkpoint(src, dst, model_name, Res16UNet, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

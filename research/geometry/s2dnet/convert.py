"""The authors' `s2dnet_weights.pth` (germain-hug/S2DNet-Minimal) -> `S2DNet` weights.

    python -m tools.convert_checkpoint --from=pytorch --model=s2dnet_vgg16 --src=s2dnet_weights.pth --dst=DIR

The file is {"hypercolumn_layers": [...], "state_dict": {...}} (s2dnet.py loads both). Keys: `encoder.<idx>.
{weight,bias}` for the 13 convs of torchvision's vgg16.features[:-2] (idx = vgg.torch_index: conv1_1 -> 0 ...
conv5_3 -> 28), `adaptation_layers.adap_layer_<i>.0.*` (conv1x1), `.2.*` (conv5x5), `.3.{weight,bias,
running_mean,running_var}` (BatchNorm2d; num_batches_tracked skipped). Conv weights OIHW -> HWIO.
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
    torch_conv,
    unwrap_state_dict,
)
from official.vision.backbones.vgg import layer_names, torch_index
from research.geometry.s2dnet.model import ENCODER_LAST, S2DNet


def weight_map(model: S2DNet) -> list[WeightEntry]:
    """(official key, Keras variable, transform) for every weight of `model`."""
    entries: list[WeightEntry] = []
    for name in layer_names()[: torch_index(ENCODER_LAST) + 1]:
        if name.startswith("conv"):
            layer, idx = model.get_layer(name), torch_index(name)
            entries += [(f"encoder.{idx}.weight", layer.kernel, torch_conv), (f"encoder.{idx}.bias", layer.bias, None)]
    for i in range(len(model.strides)):
        key = f"adaptation_layers.adap_layer_{i}"
        for j, suffix in ((0, "conv1x1"), (2, "conv5x5")):
            layer = model.get_layer(f"adap_layer_{i}_{suffix}")
            entries += [(f"{key}.{j}.weight", layer.kernel, torch_conv), (f"{key}.{j}.bias", layer.bias, None)]
        bn = model.get_layer(f"adap_layer_{i}_bn")
        entries += [(f"{key}.3.weight", bn.gamma, None), (f"{key}.3.bias", bn.beta, None),
                    (f"{key}.3.running_mean", bn.moving_mean, None), (f"{key}.3.running_var", bn.moving_variance, None)]
    return entries


def load_state_dict(model: S2DNet, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official state dict into `model` (strict: every tensor read, every weight filled)."""
    arrays = unwrap_state_dict(to_arrays({k: v for k, v in state_dict.items() if k != "hypercolumn_layers"}))
    return assign_strict(model, weight_map(model), arrays, hints={
        "missing": "; an S2DNet state dict has encoder.0.weight ... encoder.28.bias and adaptation_layers.*",
        "unexpected": "; is this S2DNet-Minimal's s2dnet_weights.pth?",
    })


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Widths fixed by the checkpoint: output_dim and adapt_dim from adaptation layer 0, the VGG width."""
    arrays = unwrap_state_dict(dict(state_dict))
    shape = {k: tuple(np.shape(v)) for k, v in arrays.items()}
    out: dict[str, Any] = {}
    if len(shape.get("adaptation_layers.adap_layer_0.2.weight", ())) == 4:
        out["output_dim"], out["adapt_dim"] = shape["adaptation_layers.adap_layer_0.2.weight"][:2]
    if len(shape.get("encoder.0.weight", ())) == 4:
        out["width_divisor"] = max(1, 64 // shape["encoder.0.weight"][0])
    taps = sum(1 for k in shape if k.startswith("adaptation_layers.adap_layer_") and k.endswith(".0.weight"))
    if taps and taps != 3:
        out["hypercolumn_layers"] = ("conv1_2", "conv3_3", "conv5_3")[:taps]
    return out


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered `model_name` into folder `dst`."""
    return convert_pytorch_checkpoint(src, dst, model_name, S2DNet, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

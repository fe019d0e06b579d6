"""ISP-reID checkpoints (PyTorch `Baseline` state dicts) -> the Keras ISPNet.

    python -m tools.convert_checkpoint --from=pytorch --model=isp_hrnet32 --src=ISP-market.pth --dst=DIR

Keras layer names are the official module paths, so the map is by name: the HRNet trunk, incre
modules, cls_head, spatial_attn and part_cls_layer live under `base.` (Baseline.base); the BNNecks
(`bottleneck_part|global|fore`) and bias-free classifiers (`classifier_*`) at the top. Conv weights
(out, in, kh, kw) -> (kh, kw, in, out); linear weights are transposed; BatchNorm weight/bias/running
stats -> gamma/beta/moving stats. The BNNecks' shift is frozen at zero in the official model
(`bias.requires_grad_(False)`): Keras has none (center=False), so the converter checks it is zero and
lists it as skipped. `num_batches_tracked` is skipped. A checkpoint saved from nn.DataParallel
(`module.` prefix) is accepted. num_classes and part_num are read from the checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import numpy as np

from official.core.checkpoint_convert import (
    ConversionError,
    ConversionReport,
    WeightEntry,
    assign_strict,
    convert_pytorch_checkpoint,
    to_arrays,
    torch_conv,
)
from research.reid.isp.model import ISPNet

TOP_LEVEL = ("bottleneck_", "classifier_")


def torch_prefix(layer_name: str) -> str:
    """Official module path of a Keras layer."""
    return layer_name if layer_name.startswith(TOP_LEVEL) else f"base.{layer_name}"


def weight_map(model: keras.Model) -> list[WeightEntry]:
    """(official key, Keras variable, transform) for every weight of `model`."""
    entries: list[WeightEntry] = []
    for layer in model.layers:
        if not layer.weights:
            continue
        key = torch_prefix(layer.name)
        if isinstance(layer, keras.layers.Conv2D):
            entries.append((f"{key}.weight", layer.kernel, torch_conv))
            if layer.use_bias:
                entries.append((f"{key}.bias", layer.bias, None))
        elif isinstance(layer, keras.layers.BatchNormalization):
            entries.append((f"{key}.weight", layer.gamma, None))
            if layer.center:
                entries.append((f"{key}.bias", layer.beta, None))
            entries += [(f"{key}.running_mean", layer.moving_mean, None), (f"{key}.running_var", layer.moving_variance, None)]
        elif isinstance(layer, keras.layers.Dense):
            entries.append((f"{key}.weight", layer.kernel, np.transpose))
        else:
            raise ConversionError(f"layer {layer.name} ({type(layer).__name__}) has no official counterpart")
    return entries


def _strip_module(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if arrays and all(k.startswith("module.") for k in arrays):
        return {k[len("module."):]: v for k, v in arrays.items()}
    return arrays


def load_state_dict(model: keras.Model, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official state dict into `model` (strict: every tensor used, every weight filled)."""
    arrays = _strip_module(to_arrays(state_dict))
    frozen = [f"bottleneck_{b}.bias" for b in ("part", "global", "fore")]
    for key in frozen:
        if key in arrays and np.max(np.abs(arrays[key])) > 0:
            raise ConversionError(f"'{key}' is not zero: the BNNeck shift is frozen at 0 in ISP (Keras has no beta)")
    arrays = {k: v for k, v in arrays.items() if k not in frozen}
    report = assign_strict(model, weight_map(model), arrays, hints={
        "missing": "; an ISP Baseline state dict has base.* and bottleneck_*/classifier_* keys",
        "unexpected": "; is this an ISP-reID checkpoint of the same HRNet width and part number?",
    })
    report.skipped.extend(k for k in frozen if k in _strip_module(to_arrays(state_dict)))
    return report


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """num_classes and part_num from the classifier and part-classifier shapes."""
    arrays = _strip_module({k: v for k, v in state_dict.items()})
    out = {}
    if "classifier_global.weight" in arrays:
        out["num_classes"] = int(arrays["classifier_global.weight"].shape[0])
    if "base.part_cls_layer.weight" in arrays:
        out["part_num"] = int(arrays["base.part_cls_layer.weight"].shape[0])
    return out


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered `model_name` into folder `dst`."""
    return convert_pytorch_checkpoint(src, dst, model_name, ISPNet, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

"""Official PyTorch MobileNeXt checkpoints -> Keras weights, so users start from the authors' ImageNet run.

The official module (mnext.py `MXNet`) names its tensors `features.0.{0,1}` (stem conv, BN),
`features.{i+1}.conv.{j}` (block i: one nn.Sequential whose index j also counts the ReLU6 slots) and
`classifier.1` (Linear after Dropout). The mapping is derived from each block's structure, so every
width and identity divisor converts; every source tensor must land on exactly one Keras weight and every
Keras weight must be written, else the error names the key.

Layouts: conv (out, in, kh, kw) -> (kh, kw, in, out); depthwise (C, 1, kh, kw) -> (kh, kw, C, 1);
Linear (out, in) -> (in, out); BatchNorm weight/bias/running_mean/running_var -> gamma/beta/moving_mean/
moving_variance (num_batches_tracked has no Keras counterpart and is dropped).
torch is only needed to read .pth files (`pip install eccv20-zoo[convert]`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np

from official.core.checkpoint_convert import (  # noqa: F401  (re-exported: older imports)
    ConversionError,
    ConversionReport,
    read_pytorch_checkpoint,
    unwrap_state_dict,
)
from official.vision.mobilenext.model import MobileNeXt


def _conv(w: np.ndarray) -> np.ndarray:
    return np.transpose(w, (2, 3, 1, 0))


def _depthwise(w: np.ndarray) -> np.ndarray:
    return np.transpose(w, (2, 3, 0, 1))


def _linear(w: np.ndarray) -> np.ndarray:
    return np.transpose(w, (1, 0))


def _bn_entries(prefix: str, bn: keras.layers.BatchNormalization) -> list[tuple[str, Any, Any]]:
    return [
        (f"{prefix}.weight", bn.gamma, None),
        (f"{prefix}.bias", bn.beta, None),
        (f"{prefix}.running_mean", bn.moving_mean, None),
        (f"{prefix}.running_var", bn.moving_variance, None),
    ]


def weight_map(model: MobileNeXt) -> list[tuple[str, Any, Any]]:
    """(official key, Keras variable, layout transform or None) for every weight of `model`."""
    entries = [("features.0.0.weight", model.get_layer("stem_conv").kernel, _conv)]
    entries += _bn_entries("features.0.1", model.get_layer("stem_bn"))
    for i, block in enumerate(model.blocks):
        # The official nn.Sequential, ReLU6 slots included: [dw, bn, relu] [pw, bn] [pw, bn, relu] [dw, bn].
        sequence: list[tuple[str, Any]] = []
        if block.dw1 is not None:
            sequence += [("dw", block.dw1), ("bn", block.dw1_bn), ("relu", None)]
        sequence += [("pw", block.reduce), ("bn", block.reduce_bn)]
        sequence += [("pw", block.expand), ("bn", block.expand_bn), ("relu", None)]
        if block.dw2 is not None:
            sequence += [("dw", block.dw2), ("bn", block.dw2_bn)]
        for j, (kind, layer) in enumerate(sequence):
            prefix = f"features.{i + 1}.conv.{j}"
            if kind == "dw":
                entries.append((f"{prefix}.weight", layer.kernel, _depthwise))
            elif kind == "pw":
                entries.append((f"{prefix}.weight", layer.kernel, _conv))
            elif kind == "bn":
                entries += _bn_entries(prefix, layer)
    if model.constructor_args["include_top"]:
        dense = model.get_layer("logits")
        entries += [("classifier.1.weight", dense.kernel, _linear), ("classifier.1.bias", dense.bias, None)]
    return entries


def load_state_dict(model: MobileNeXt, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official state dict (arrays or torch tensors) into `model`; strict in both directions."""
    arrays = {
        k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v) for k, v in state_dict.items()
    }
    skipped = sorted(k for k in arrays if k.endswith("num_batches_tracked"))
    entries = weight_map(model)
    expected = {key for key, _, _ in entries}
    missing = sorted(expected - arrays.keys())
    if missing:
        raise ConversionError(
            f"{len(missing)} tensors of {model.name} missing from the checkpoint: {missing[:5]}"
        )
    unexpected = sorted(arrays.keys() - expected - set(skipped))
    if unexpected:
        raise ConversionError(
            f"{len(unexpected)} checkpoint tensors have no place in {model.name} (wrong width or model?): "
            f"{unexpected[:5]}"
        )
    assigned = {}
    for key, variable, transform in entries:
        value = arrays[key]
        value = transform(value) if transform is not None else value
        if tuple(value.shape) != tuple(variable.shape):
            raise ConversionError(
                f"{key}: shape {tuple(arrays[key].shape)} converts to {tuple(value.shape)}, "
                f"but {variable.path} has {tuple(variable.shape)}"
            )
        variable.assign(value.astype(variable.dtype))
        assigned[key] = variable.path
    if len(set(assigned.values())) != len(model.weights):
        raise ConversionError(
            f"{len(model.weights) - len(set(assigned.values()))} Keras weights were not written"
        )
    return ConversionReport(assigned, skipped)


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments that the checkpoint fixes: the class count of its classifier."""
    weight = state_dict.get("classifier.1.weight")
    return {} if weight is None else {"classes": int(weight.shape[0])}


def convert_pytorch(
    src: str,
    dst: str,
    model_name: str,
    allow_pickle: bool = False,
    checkpoint_key: str = "",
    **overrides: Any,
) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered model `model_name` into folder `dst`.

    Writes DST/model.weights.h5 (load with `model.load_weights`), DST/model.keras (the whole model) and
    DST/conversion.json (the key mapping); files are written under temp names and renamed when complete.
    """
    from official.core import registry

    state = unwrap_state_dict(read_pytorch_checkpoint(src, allow_pickle), checkpoint_key)
    model = registry.create_model(model_name, **{**infer_model_kwargs(state), **overrides})
    if not isinstance(model, MobileNeXt):
        raise ConversionError(f"{model_name} is not a MobileNeXt model")
    report = load_state_dict(model, state)
    os.makedirs(dst, exist_ok=True)
    outputs = {}
    for filename in ("model.weights.h5", "model.keras"):
        final = os.path.join(dst, filename)
        tmp = os.path.join(dst, f"tmp-{os.getpid()}-{filename}")  # Keras checks the suffix
        if filename.endswith(".weights.h5"):
            model.save_weights(tmp)
        else:
            model.save(tmp)
        os.replace(tmp, final)
        outputs[filename] = final
    payload = {
        "source": os.path.abspath(src),
        "model": model_name,
        "config": model.get_config(),
        **report.to_json(),
    }
    final = os.path.join(dst, "conversion.json")
    with open(f"{final}.tmp", "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=1, default=str)
    os.replace(f"{final}.tmp", final)
    outputs["conversion.json"] = final
    return {"tensors": len(report.assigned), "skipped": len(report.skipped), "outputs": outputs}


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

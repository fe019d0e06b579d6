"""Side-Tuning's distilled FCN4 side (official `assets/pytorch/distillation/fcn4-cifar.pth`) -> Keras.

    python -m tools.convert_checkpoint --from=pytorch --model=fcn4_side --src=fcn4-cifar.pth --dst=DIR --allow_pickle

The file is a `{"state_dict", "epoch", "model", "optimizer"}` pickle whose "model" entry is the whole
PyTorch module (hence --allow_pickle; classes of the authors' code are stubbed, only tensors are
kept). Key map (tlkit `FCN4`: each `_make_layer` is Sequential(conv, GroupNorm, ReLU); the last layer
is named conv5 and has no norm):
    conv{1,2,3}.0.weight -> fcn4_conv{1,2,3} kernel;  conv{1,2,3}.1.weight / .bias -> fcn4_gn{1,2,3} gamma / beta
    conv5.0.weight       -> fcn4_conv4 kernel
The base ResNet-44 (`resnet44-cifar.pth`) converts with `--model=resnet44_cifar`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from official.core.checkpoint_convert import (
    ConversionReport,
    assign_strict,
    convert_pytorch_checkpoint,
    to_arrays,
    torch_conv,
)
from official.vision.side_tuning.model import FCN4


def weight_map(model: FCN4) -> list:
    get = model.get_layer
    entries = []
    for i, src in enumerate(("conv1", "conv2", "conv3", "conv5"), start=1):
        entries.append((f"{src}.0.weight", get(f"fcn4_conv{i}").kernel, torch_conv))
        if i < 4:
            gn = get(f"fcn4_gn{i}")
            entries += [(f"{src}.1.weight", gn.gamma, None), (f"{src}.1.bias", gn.beta, None)]
    return entries


def load_state_dict(model: FCN4, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes the official FCN4 state dict into `model`, strict both ways."""
    return assign_strict(model, weight_map(model), to_arrays(state_dict))


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    return convert_pytorch_checkpoint(src, dst, model_name, FCN4, load_state_dict, lambda state: {},
                                      allow_pickle, checkpoint_key, **overrides)


CONVERTERS = {"pytorch": convert_pytorch}

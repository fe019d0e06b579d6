"""Official KM3D / RTM3D PyTorch checkpoints (Banconxuan/RTM3D) -> Keras weights for rtm3d_resnet18.

    python -m tools.convert_checkpoint --from=pytorch --model=rtm3d_resnet18 --src=model_res18.pth --dst=DIR

Checkpoint file: CenterNet's `save_model` writes {"epoch": n, "state_dict": ..., "optimizer": ...}
(DataParallel's "module." stripped or not: both are accepted).

Key names of msra_resnet.py `PoseResNet` (torchvision ResNet names for the trunk):
    conv1, bn1                               -> resnet_stem_conv / _bn
    layer{s}.{b}.conv{k}, layer{s}.{b}.bn{k} -> resnet_layer{s}_{b}_{k}_conv / _bn   (k = 1, 2)
    layer{s}.{b}.downsample.0 / .1           -> resnet_layer{s}_{b}_down_conv / _bn
    deconv_layers.{3i} (ConvTranspose2d)     -> deconv{i};  deconv_layers.{3i+1} (BN) -> deconv{i}_bn
    {head}.0 / {head}.2                      -> {head}_conv1 / {head}_conv2  (hm, hm_hp, hps, ...)
Layouts: conv (out, in, kh, kw) -> (kh, kw, in, out); ConvTranspose2d (in, out, kh, kw) -> Keras
Conv2DTranspose (kh, kw, out, in) (both are the adjoint of the same correlation, no spatial flip);
BN weight/bias/running_mean/running_var -> gamma/beta/moving_mean/moving_variance. The official model
reads cv2's BGR images: conv1's input channels are reversed so the zoo's model takes RGB (its
normalisation stats are reversed to match, model.PIXEL_MEAN).

DLA-34 checkpoints (base.*, dla_up.*, ida_up.* keys) are recognised and rejected with a message: their
deformable neck is converted by no code here yet.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from official.core.checkpoint_convert import (
    ConversionError,
    ConversionReport,
    assign_strict,
    check_destination,
    read_pytorch_checkpoint,
    save_converted,
    to_arrays,
    torch_conv,
    unwrap_state_dict,
)
from official.vision.rtm3d.model import RTM3D, head_channels


def _conv_rgb(w: np.ndarray) -> np.ndarray:
    """conv1 of a BGR-input network as a kernel of an RGB-input one."""
    return torch_conv(w[:, ::-1])


def _deconv(w: np.ndarray) -> np.ndarray:
    return np.transpose(w, (2, 3, 1, 0))


def _bn(module: str, layer) -> list:
    return [
        (f"{module}.weight", layer.gamma, None),
        (f"{module}.bias", layer.beta, None),
        (f"{module}.running_mean", layer.moving_mean, None),
        (f"{module}.running_var", layer.moving_variance, None),
    ]


def weight_map(model: RTM3D) -> list:
    """(official key, Keras variable, layout transform or None) for every weight of a ResNet RTM3D."""
    args = model.constructor_args
    if args["backbone"] != "resnet18":
        raise ConversionError(f"only the ResNet RTM3D converts (model backbone {args['backbone']!r})")
    get = model.get_layer
    entries = [("conv1.weight", get("resnet_stem_conv").kernel, _conv_rgb), *_bn("bn1", get("resnet_stem_bn"))]
    widths = args["resnet_widths"]
    in_ch = args["stem_width"]
    for s, (count, width) in enumerate(zip(args["resnet_blocks"], widths, strict=True), start=1):
        for b in range(count):
            src, dst = f"layer{s}.{b}", f"resnet_layer{s}_{b}"
            for k in (1, 2):
                entries += [(f"{src}.conv{k}.weight", get(f"{dst}_{k}_conv").kernel, torch_conv)]
                entries += _bn(f"{src}.bn{k}", get(f"{dst}_{k}_bn"))
            if b == 0 and (s > 1 or in_ch != width):
                entries += [(f"{src}.downsample.0.weight", get(f"{dst}_down_conv").kernel, torch_conv)]
                entries += _bn(f"{src}.downsample.1", get(f"{dst}_down_bn"))
            in_ch = width
    for i in range(len(args["deconv_filters"])):
        entries += [(f"deconv_layers.{3 * i}.weight", get(f"deconv{i}").kernel, _deconv)]
        entries += _bn(f"deconv_layers.{3 * i + 1}", get(f"deconv{i}_bn"))
    for head in head_channels(args["num_classes"]):
        for src, dst in ((0, "conv1"), (2, "conv2")):
            layer = get(f"{head}_{dst}")
            entries += [(f"{head}.{src}.weight", layer.kernel, torch_conv), (f"{head}.{src}.bias", layer.bias, None)]
    return entries


def load_state_dict(model: RTM3D, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official PoseResNet state dict into `model`; strict in both directions (one-line errors)."""
    arrays = to_arrays(state_dict)
    if any(k.startswith(("base.", "dla_up.", "ida_up.")) for k in arrays):
        raise ConversionError("this is a DLA-34 KM3D checkpoint (base.* / dla_up.* keys); only ResNet ones convert")
    return assign_strict(model, weight_map(model), arrays, {
        "missing": ": a checkpoint of another variant?",
        "unexpected": ": more blocks or heads than the model?",
    })  # fmt: skip


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments the checkpoint fixes: classes (hm's outputs) and head_conv (hm.0's)."""
    out = {}
    if "hm.2.weight" in state_dict:
        out["num_classes"] = int(state_dict["hm.2.weight"].shape[0])
    if "hm.0.weight" in state_dict:
        out["head_conv"] = int(state_dict["hm.0.weight"].shape[0])
    return out


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered model `model_name` into folder `dst`
    (model.weights.h5, model.keras, conversion.json)."""
    from official.core import registry

    check_destination(dst)
    state = unwrap_state_dict(read_pytorch_checkpoint(src, allow_pickle), checkpoint_key)
    model = registry.create_model(model_name, **{**infer_model_kwargs(state), **overrides})
    if not isinstance(model, RTM3D):
        raise ConversionError(f"{model_name} is not an RTM3D model")
    try:
        report = load_state_dict(model, state)
    except ConversionError as err:
        raise ConversionError(f"{src} ({model_name}): {err}") from None
    payload = {"source": os.path.abspath(src), "model": model_name, "config": model.get_config(), **report.to_json()}
    outputs = save_converted(model, dst, payload)
    return {"tensors": len(report.assigned), "skipped": len(report.skipped), "outputs": outputs}


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

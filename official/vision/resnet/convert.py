"""Official PyTorch ResNet checkpoints -> Keras weights for the zoo's ResNets.

    python -m tools.convert_checkpoint --from=pytorch --model=resnet50 --src=ANT_SIN_Model.pth --dst=DIR
    python -m tools.convert_checkpoint --from=pytorch --model=resnet44_cifar --src=resnet44-cifar.pth --dst=DIR

ImageNet ResNets (resnet18, resnet50): torchvision key names, which the Game-of-Noise releases hold
(bethgelab/game-of-noise: `{"epoch", "model_state_dict", "optimizer_state_dict"}` of a torchvision
resnet50). Their training wrapper `ZeroOneResNet50` keeps the network as attribute `resnet` under
DataParallel, so keys prefixed "module.resnet." or "resnet." are accepted, as are a bare state dict
and "state_dict" / "model" / "model_state_dict" entries.
    conv1, bn1                               -> resnet_stem_conv / _bn
    layer{s}.{b}.conv{k}, layer{s}.{b}.bn{k} -> resnet_layer{s}_{b}_{k}_conv / _bn  (k = 1, 2; 1..3 Bottleneck)
    layer{s}.{b}.downsample.0 / .1           -> resnet_layer{s}_{b}_down_conv / _bn
    fc.weight (classes, C), fc.bias          -> logits kernel (C, classes), bias

CIFAR ResNets (resnet20/44/56_cifar): key names of Idelbayev's resnet_cifar.py as Side-Tuning ships it
(jozhang97/side-tuning assets/pytorch/resnet44-cifar.pth: {"best_prec1", "state_dict"} with "module."
keys and no `linear`; option A shortcuts have no tensors):
    conv1, bn1 -> resnet_stem_*;  layer{s}.{b}.conv{k} / bn{k} -> resnet_layer{s}_{b}_{k}_*;  linear -> logits
Projection-shortcut CIFAR ResNets (resnet20/56_cifar_dsconv) are DSA's released masked checkpoints:
official/training/dsa/convert.py converts them (dense with the masks folded, and physically pruned).
A checkpoint without the classifier (fc / linear) converts into the model built with include_top=False
(the pooled feature); with one, the class count is read from it.

Layouts: conv (out, in, kh, kw) -> (kh, kw, in, out); linear (out, in) -> (in, out); BatchNorm weight,
bias, running_mean, running_var -> gamma, beta, moving_mean, moving_variance; num_batches_tracked is
skipped and reported. Strict both ways (official/core/checkpoint_convert.assign_strict).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from official.core.checkpoint_convert import (
    ConversionError,
    ConversionReport,
    assign_strict,
    convert_pytorch_checkpoint,
    to_arrays,
    torch_conv,
)
from official.vision.backbones.resnet import RESNET_BLOCK_KIND, RESNET_BLOCKS
from official.vision.resnet.model import CifarResNet, ResNet

__all__ = ["CONVERTERS", "ConversionError", "convert_pytorch", "infer_model_kwargs", "load_state_dict", "weight_map"]

_WRAPPER_PREFIXES = ("module.", "resnet.")  # DataParallel, Game-of-Noise's ZeroOneResNet50.resnet


def torch_linear(w: np.ndarray) -> np.ndarray:
    """PyTorch Linear weight (out, in) -> Keras Dense kernel (in, out)."""
    return np.transpose(w)


def normalise_state_dict(state: Mapping[str, Any]) -> dict[str, Any]:
    """The network's tensors: a "model_state_dict" entry unwrapped, "module." / "resnet." prefixes stripped."""
    if isinstance(state.get("model_state_dict"), Mapping):
        state = state["model_state_dict"]
    out = {}
    for key, value in state.items():
        while key.startswith(_WRAPPER_PREFIXES):
            key = key.split(".", 1)[1]
        out[key] = value
    return out


def _conv_bn(get, src_conv: str, src_bn: str, dst: str) -> list:
    bn = get(f"{dst}_bn")
    return [
        (f"{src_conv}.weight", get(f"{dst}_conv").kernel, torch_conv),
        (f"{src_bn}.weight", bn.gamma, None),
        (f"{src_bn}.bias", bn.beta, None),
        (f"{src_bn}.running_mean", bn.moving_mean, None),
        (f"{src_bn}.running_var", bn.moving_variance, None),
    ]


def _blocks(get, stages: tuple[int, ...], convs: int, has_downsample) -> list:
    """layer{s}.{b}.conv{k}/bn{k} (+ downsample.0/.1 where `has_downsample(s, b)`) for every block."""
    entries = []
    for s, count in enumerate(stages, start=1):
        for b in range(count):
            src, dst = f"layer{s}.{b}", f"resnet_layer{s}_{b}"
            for k in range(1, convs + 1):
                entries += _conv_bn(get, f"{src}.conv{k}", f"{src}.bn{k}", f"{dst}_{k}")
            if has_downsample(s, b):
                entries += _conv_bn(get, f"{src}.downsample.0", f"{src}.downsample.1", f"{dst}_down")
    return entries


def weight_map(model: ResNet | CifarResNet) -> list[tuple[str, Any, Any]]:
    """(official key, Keras variable, layout transform or None) for every weight of `model`."""
    args = model.constructor_args
    get = model.get_layer
    entries = _conv_bn(get, "conv1", "bn1", "resnet_stem")
    if isinstance(model, ResNet):
        kind = RESNET_BLOCK_KIND[args["depth"]]
        # torchvision: a projection where stride != 1 or inplanes != planes * expansion (every Bottleneck
        # stage's first block; BasicBlock stages 2-4).
        entries += _blocks(get, RESNET_BLOCKS[args["depth"]], 3 if kind == "bottleneck" else 2,
                           lambda s, b: b == 0 and (s > 1 or kind == "bottleneck"))
        fc = "fc"
    else:  # option A shortcuts hold no tensors
        entries += _blocks(get, (args["blocks_per_stage"],) * len(args["widths"]), 2, lambda s, b: False)
        fc = "linear"
    if args["include_top"]:
        logits = get("logits")
        entries += [(f"{fc}.weight", logits.kernel, torch_linear), (f"{fc}.bias", logits.bias, None)]
    return entries


def load_state_dict(model: ResNet | CifarResNet, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official state dict (arrays or torch tensors, wrappers accepted) into `model`; strict both
    ways: a missing, unexpected or mis-shaped key is a one-line ConversionError and nothing is written."""
    arrays = to_arrays(normalise_state_dict(state_dict))
    return assign_strict(model, weight_map(model), arrays, {
        "missing": ": a checkpoint of another depth, or without the classifier (build with include_top=False)?",
        "unexpected": ": a checkpoint of another depth, or with a classifier the model lacks?",
    })


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The classifier the checkpoint fixes: classes from fc / linear, or include_top=False without one."""
    state = normalise_state_dict(state_dict)
    for key in ("fc.weight", "linear.weight"):
        if key in state:
            return {"classes": int(state[key].shape[0]), "include_top": True}
    return {"include_top": False, "pooling": "avg"}


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered model `model_name` into folder `dst`
    (model.weights.h5 to load with `model.load_weights`, model.keras, conversion.json)."""
    from official.core import registry

    builder = registry.get_model_builder(model_name)
    model_cls = getattr(builder, "model_cls", ResNet)
    if model_cls is CifarResNet and overrides.get("shortcut", getattr(builder, "fixed", {}).get("shortcut")) == "projection":
        # DSA's masked dsconv ResNets
        from official.training.dsa.convert import convert_pytorch as convert_dsa

        return convert_dsa(src, dst, model_name, allow_pickle, checkpoint_key, **overrides)
    return convert_pytorch_checkpoint(src, dst, model_name, model_cls, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

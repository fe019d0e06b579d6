"""Official KM3D / RTM3D PyTorch checkpoints (Banconxuan/RTM3D) -> Keras weights for rtm3d_resnet18 and
rtm3d_dla34.

    python -m tools.convert_checkpoint --from=pytorch --model=rtm3d_resnet18 --src=model_res18.pth --dst=DIR
    python -m tools.convert_checkpoint --from=pytorch --model=rtm3d_dla34 --src=model_dla34.pth --dst=DIR

Checkpoint file: CenterNet's `save_model` writes {"epoch": n, "state_dict": ..., "optimizer": ...}
(DataParallel's "module." stripped or not: both are accepted).

ResNet (`--arch res_18`), key names of msra_resnet.py `PoseResNet` (torchvision ResNet names for the trunk):
    conv1, bn1                               -> resnet_stem_conv / _bn
    layer{s}.{b}.conv{k}, layer{s}.{b}.bn{k} -> resnet_layer{s}_{b}_{k}_conv / _bn   (k = 1, 2)
    layer{s}.{b}.downsample.0 / .1           -> resnet_layer{s}_{b}_down_conv / _bn
    deconv_layers.{3i} (ConvTranspose2d)     -> deconv{i};  deconv_layers.{3i+1} (BN) -> deconv{i}_bn

DLA-34 (`--arch dla_34`), key names of pose_dla_dcn.py `DLASeg`:
    base.base_layer.0 / .1                   -> base_conv / base_bn
    base.level{0,1}.0 / .1                   -> level{0,1}_conv / _bn
    base.level{l}[.tree{1,2}]*.tree{1,2}.conv{k} / .bn{k} -> level{l}[_tree{1,2}]*_tree{1,2}_{k}_conv / _bn
    ....root.conv / .root.bn, ....project.0 / .1 -> ..._root_conv / _bn, ..._project_conv / _bn
    dla_up.ida_{i}.proj_{k} / node_{k}       -> neck_dla_ida{i}_proj{k} / _node{k}   (DeformConv)
    dla_up.ida_{i}.up_{k}                    -> neck_dla_ida{i}_up{k}   (depthwise ConvTranspose2d)
    ida_up.proj_{k} / node_{k} / up_{k}      -> neck_ida_proj{k} / _node{k} / _up{k}
  A DeformConv `X` is X.conv (DCNv2 `DCN`: weight, bias, conv_offset_mask.weight / .bias) -> X_dcn
  (kernel, bias, offset_kernel, offset_bias) and X.actf.0 (BN) -> X_bn. DCN computes offset =
  cat(o1, o2) of the offset conv's first two thirds, which its CUDA kernel reads as (dy, dx) pairs per
  tap (channel 2t = dy of tap t), and sigmoid of the last third as the mask: the zoo's DeformConv2D
  reads its offset conv the same way, so the 27 channels map in their own order. Skipped (reported,
  not errors): the `project` conv + BN of the outer level-3 / level-4 trees (PyTorch creates them and
  never uses their output; the zoo does not create them) and base.fc (the ImageNet classifier that
  `pretrained=True` attaches to DLA and DLASeg never calls).

Both: {head}.0 / {head}.2 -> {head}_conv1 / {head}_conv2  (hm, hm_hp, hps, ...).
Layouts: conv (out, in, kh, kw) -> (kh, kw, in, out); ConvTranspose2d (in, out, kh, kw) -> Keras
Conv2DTranspose (kh, kw, out, in) (both are the adjoint of the same correlation, no spatial flip); the
depthwise ConvTranspose2d (C, 1, kh, kw) -> DepthwiseUpsample (kh, kw, C, 1) (stored unflipped);
BN weight/bias/running_mean/running_var -> gamma/beta/moving_mean/moving_variance. The official models
read cv2's BGR images: the first conv's input channels are reversed so the zoo's model takes RGB (its
normalisation stats are reversed to match, model.PIXEL_MEAN).
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
from official.vision.backbones.dla import DLA34_CHANNELS, DLA34_LEVELS
from official.vision.rtm3d.model import RTM3D, head_channels


def _conv_rgb(w: np.ndarray) -> np.ndarray:
    """The first conv of a BGR-input network as a kernel of an RGB-input one."""
    return torch_conv(w[:, ::-1])


def _deconv(w: np.ndarray) -> np.ndarray:
    return np.transpose(w, (2, 3, 1, 0))


def _depthwise_up(w: np.ndarray) -> np.ndarray:
    """Depthwise ConvTranspose2d weight (C, 1, kh, kw) -> DepthwiseUpsample kernel (kh, kw, C, 1)."""
    return np.transpose(w, (2, 3, 0, 1))


def _bn(module: str, layer) -> list:
    return [
        (f"{module}.weight", layer.gamma, None),
        (f"{module}.bias", layer.beta, None),
        (f"{module}.running_mean", layer.moving_mean, None),
        (f"{module}.running_var", layer.moving_variance, None),
    ]


def _conv_bn(get, src_conv: str, src_bn: str, dst: str, transform=torch_conv) -> list:
    """A bias-free conv `src_conv` + BN `src_bn` -> Keras `{dst}_conv` / `{dst}_bn`."""
    return [(f"{src_conv}.weight", get(f"{dst}_conv").kernel, transform), *_bn(src_bn, get(f"{dst}_bn"))]


def _resnet_trunk(model: RTM3D) -> list:
    args = model.constructor_args
    get = model.get_layer
    entries = _conv_bn(get, "conv1", "bn1", "resnet_stem", _conv_rgb)
    widths = args["resnet_widths"]
    in_ch = args["stem_width"]
    for s, (count, width) in enumerate(zip(args["resnet_blocks"], widths, strict=True), start=1):
        for b in range(count):
            src, dst = f"layer{s}.{b}", f"resnet_layer{s}_{b}"
            for k in (1, 2):
                entries += _conv_bn(get, f"{src}.conv{k}", f"{src}.bn{k}", f"{dst}_{k}")
            if b == 0 and (s > 1 or in_ch != width):
                entries += _conv_bn(get, f"{src}.downsample.0", f"{src}.downsample.1", f"{dst}_down")
            in_ch = width
    for i in range(len(args["deconv_filters"])):
        entries += [(f"deconv_layers.{3 * i}.weight", get(f"deconv{i}").kernel, _deconv)]
        entries += _bn(f"deconv_layers.{3 * i + 1}", get(f"deconv{i}_bn"))
    return entries


def _dla_tree(get, src: str, dst: str, levels: int, in_ch: int, out_ch: int, unused: list) -> list:
    """Entries of one pose_dla_dcn.py `Tree` (and its sub-trees); appends its unused modules to `unused`."""
    entries = []
    if in_ch != out_ch:
        if levels == 1:
            entries += _conv_bn(get, f"{src}.project.0", f"{src}.project.1", f"{dst}_project")
        else:  # created by PyTorch, its output is handed to a sub-tree that computes its own
            unused.append(f"{src}.project.")
    if levels == 1:
        for sub in ("tree1", "tree2"):
            for k in (1, 2):
                entries += _conv_bn(get, f"{src}.{sub}.conv{k}", f"{src}.{sub}.bn{k}", f"{dst}_{sub}_{k}")
        entries += _conv_bn(get, f"{src}.root.conv", f"{src}.root.bn", f"{dst}_root")
    else:
        entries += _dla_tree(get, f"{src}.tree1", f"{dst}_tree1", levels - 1, in_ch, out_ch, unused)
        entries += _dla_tree(get, f"{src}.tree2", f"{dst}_tree2", levels - 1, out_ch, out_ch, unused)
    return entries


def _deform_block(get, src: str, dst: str) -> list:
    """KM3D `DeformConv` (`src`.conv = DCN, `src`.actf.0 = BN) -> `{dst}_dcn` + `{dst}_bn`."""
    dcn = get(f"{dst}_dcn")
    return [
        (f"{src}.conv.weight", dcn.kernel, torch_conv),
        (f"{src}.conv.bias", dcn.bias, None),
        # (o1 | o2 | mask logits): o1 | o2 is already the (dy, dx)-interleaved offset DeformConv2D reads.
        (f"{src}.conv.conv_offset_mask.weight", dcn.offset_kernel, torch_conv),
        (f"{src}.conv.conv_offset_mask.bias", dcn.offset_bias, None),
        *_bn(f"{src}.actf.0", get(f"{dst}_bn")),
    ]


def _ida_up(get, src: str, dst: str, count: int) -> list:
    """An IDAUp with `count` inputs: proj_k / up_k / node_k for k = 1 .. count - 1."""
    entries = []
    for k in range(1, count):
        entries += _deform_block(get, f"{src}.proj_{k}", f"{dst}_proj{k}")
        entries += [(f"{src}.up_{k}.weight", get(f"{dst}_up{k}").kernel, _depthwise_up)]
        entries += _deform_block(get, f"{src}.node_{k}", f"{dst}_node{k}")
    return entries


def _dla_trunk(model: RTM3D) -> tuple[list, list]:
    """(entries, unused official module prefixes) of DLA-34 + the deformable DLA-up / IDA-up neck."""
    if not model.constructor_args["deformable"]:
        raise ConversionError(
            "KM3D's DLA-34 has deformable convolutions: build the model with deformable=True"
        )
    get = model.get_layer
    entries = _conv_bn(get, "base.base_layer.0", "base.base_layer.1", "base", _conv_rgb)
    for lvl in (0, 1):
        for i in range(DLA34_LEVELS[lvl]):
            dst = f"level{lvl}" if i == 0 else f"level{lvl}_{i}"
            entries += _conv_bn(get, f"base.level{lvl}.{3 * i}", f"base.level{lvl}.{3 * i + 1}", dst)
    unused = ["base.fc."]
    for lvl in range(2, 6):
        entries += _dla_tree(get, f"base.level{lvl}", f"level{lvl}", DLA34_LEVELS[lvl], DLA34_CHANNELS[lvl - 1],
                             DLA34_CHANNELS[lvl], unused)  # fmt: skip
    n = len(DLA34_CHANNELS) - 2  # DLA-up over levels 2..5 (first_level 2)
    for i in range(n - 1):  # ida_i fuses levels n - i - 2 .. n - 1 (of the four)
        entries += _ida_up(get, f"dla_up.ida_{i}", f"neck_dla_ida{i}", i + 2)
    entries += _ida_up(get, "ida_up", "neck_ida", n - 1)  # last_level 5: three DLA-up outputs
    return entries, unused


def _heads(model: RTM3D) -> list:
    entries = []
    for head in head_channels(model.constructor_args["num_classes"]):
        for src, dst in ((0, "conv1"), (2, "conv2")):
            layer = model.get_layer(f"{head}_{dst}")
            entries += [
                (f"{head}.{src}.weight", layer.kernel, torch_conv),
                (f"{head}.{src}.bias", layer.bias, None),
            ]
    return entries


def _weight_map(model: RTM3D) -> tuple[list, list]:
    backbone = model.constructor_args["backbone"]
    if backbone == "resnet18":
        entries, unused = _resnet_trunk(model), []
    elif backbone == "dla34":
        entries, unused = _dla_trunk(model)
    else:
        raise ConversionError(f"no RTM3D converter for backbone {backbone!r}")
    return entries + _heads(model), unused


def weight_map(model: RTM3D) -> list:
    """(official key, Keras variable, layout transform or None) for every weight of an RTM3D model
    (backbone "resnet18": msra_resnet.py names; "dla34": pose_dla_dcn.py names)."""
    return _weight_map(model)[0]


def unused_prefixes(model: RTM3D) -> list[str]:
    """Official module prefixes whose tensors the model has no place for because the official forward
    never uses them (DLA-34: base.fc, the outer level-3/4 trees' project); skipped, not errors."""
    return _weight_map(model)[1]


_DLA_KEYS = ("base.", "dla_up.", "ida_up.")
_RESNET_KEYS = ("conv1.", "layer1.", "deconv_layers.")


def load_state_dict(model: RTM3D, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official PoseResNet / DLASeg state dict into `model`; strict in both directions (one-line
    errors), except the never-used official modules of `unused_prefixes`, listed in the report's skipped."""
    arrays = to_arrays(state_dict)
    backbone = model.constructor_args["backbone"]
    if backbone != "dla34" and any(k.startswith(_DLA_KEYS) for k in arrays):
        raise ConversionError(
            f"this is a DLA-34 KM3D checkpoint (base.* / dla_up.* keys) and the model's backbone is "
            f"{backbone!r}: use --model=rtm3d_dla34"
        )
    if backbone == "dla34" and any(k.startswith(_RESNET_KEYS) for k in arrays):
        raise ConversionError("this is a ResNet KM3D checkpoint (conv1 / layer* keys) and the model is DLA-34: "
                              "use --model=rtm3d_resnet18")  # fmt: skip
    entries, unused = _weight_map(model)
    unused = tuple(unused)
    ignored = sorted(k for k in arrays if k.startswith(unused))
    report = assign_strict(model, entries, {k: v for k, v in arrays.items() if k not in ignored}, {
        "missing": ": a checkpoint of another variant?",
        "unexpected": ": more blocks or heads than the model?",
    })  # fmt: skip
    report.skipped = sorted(report.skipped + ignored)
    return report


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
    (model.weights.h5 to load with `model.load_weights`, model.keras, conversion.json)."""
    return convert_pytorch_checkpoint(src, dst, model_name, RTM3D, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

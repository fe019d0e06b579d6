"""imaginaire COCO-FUNIT generator state dict (the authors' key names) -> `COCOFUNITGenerator` Keras weights.

Keys (imaginaire generators/coco_funit.py + funit.py, blocks from layers/conv.py and layers/residual.py;
reconstructed from the code's module structure, as no released checkpoint could be opened here):
  generator.content_encoder.model.{0: stem, 1..D: down, D+1..: Res2dBlock}
      Conv2dBlock: .layers.conv.{weight,bias}, .layers.norm.{weight,bias} (affine IN)
      Res2dBlock:  .conv_block_{0,1}.layers.{conv,norm}.*
  generator.style_encoder.model.{0..S: Conv2dBlock .layers.conv.*, S+2: the final Conv2d 1x1 .{weight,bias}}
  generator.mlp_content / mlp_style / mlp .model.{0,1}.layers.linear.{weight,bias};  generator.usb (1, 1024)
  generator.decoder.decoder.{0,1: Res2dBlock, 2..: UpRes2dBlock, last: Conv2dBlock}
      AdaIN block: .conv_block_{0,1}.layers.conv.*, .conv_block_{0,1}.layers.norm.fc.{weight,bias}
      UpRes2dBlock shortcut: .conv_block_s.layers.{conv.*, norm.fc.*}
Checkpoints of imaginaire's trainer hold the live generator and its average under `net_G`; the average's keys
carry `averaged_model.` (the exported network here is the average): `--checkpoint_key=net_G` then keeps
the averaged_model entries when there are any. Conv weights (out, in, kh, kw) -> (kh, kw, in, out); Linear
(out, in) -> (in, out); the style encoder's final 1x1 conv becomes a Dense kernel (in, out).
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
from research.generative.coco_funit.generator import COCOFUNITGenerator


def _t(w):
    return np.transpose(w)


def _conv_block(model, key: str, name: str, norm: str = "") -> list:
    conv = model.get_layer(f"{name}_conv")
    entries = [(f"{key}.layers.conv.weight", conv.kernel, torch_conv), (f"{key}.layers.conv.bias", conv.bias, None)]
    if norm == "instance":
        layer = model.get_layer(f"{name}_norm")
        entries += [(f"{key}.layers.norm.weight", layer.gamma, None), (f"{key}.layers.norm.bias", layer.beta, None)]
    elif norm == "adaptive":
        fc = model.get_layer(f"{name}_adain").affine
        entries += [(f"{key}.layers.norm.fc.weight", fc.kernel, _t), (f"{key}.layers.norm.fc.bias", fc.bias, None)]
    return entries


def _linear(layer, key: str) -> list:
    return [(f"{key}.weight", layer.kernel, _t), (f"{key}.bias", layer.bias, None)]


def weight_map(model: COCOFUNITGenerator) -> list:
    """(official key, Keras variable, transform) for every weight of `model`."""
    args = model.constructor_args
    down_c, down_s, res = args["content_downsamplings"], args["style_downsamplings"], args["res_blocks"]
    g = "generator"
    e = _conv_block(model, f"{g}.content_encoder.model.0", "content_stem", "instance")
    for i in range(down_c):
        e += _conv_block(model, f"{g}.content_encoder.model.{i + 1}", f"content_down{i + 1}", "instance")
    for i in range(res):
        key = f"{g}.content_encoder.model.{down_c + 1 + i}"
        e += _conv_block(model, f"{key}.conv_block_0", f"content_res{i + 1}_a", "instance")
        e += _conv_block(model, f"{key}.conv_block_1", f"content_res{i + 1}_b", "instance")
    e += _conv_block(model, f"{g}.style_encoder.model.0", "style_stem")
    for i in range(down_s):
        e += _conv_block(model, f"{g}.style_encoder.model.{i + 1}", f"style_down{i + 1}")
    out = model.get_layer("style_out")
    e += [(f"{g}.style_encoder.model.{down_s + 2}.weight", out.kernel, lambda w: w[:, :, 0, 0].T),
          (f"{g}.style_encoder.model.{down_s + 2}.bias", out.bias, None)]
    for mlp in ("mlp_content", "mlp_style", "mlp"):
        e += _linear(model.get_layer(f"{mlp}_fc1"), f"{g}.{mlp}.model.0.layers.linear")
        e += _linear(model.get_layer(f"{mlp}_fc2"), f"{g}.{mlp}.model.1.layers.linear")
    e += [(f"{g}.usb", model.get_layer("usb").usb, None)]
    d = f"{g}.decoder.decoder"
    for i in range(res):
        e += _conv_block(model, f"{d}.{i}.conv_block_0", f"dec_res{i + 1}_a", "adaptive")
        e += _conv_block(model, f"{d}.{i}.conv_block_1", f"dec_res{i + 1}_b", "adaptive")
    for i in range(down_c):
        key, name = f"{d}.{res + i}", f"dec_up{i + 1}"
        e += _conv_block(model, f"{key}.conv_block_0", f"{name}_a", "adaptive")
        e += _conv_block(model, f"{key}.conv_block_1", f"{name}_b", "adaptive")
        e += _conv_block(model, f"{key}.conv_block_s", f"{name}_s", "adaptive")
    e += _conv_block(model, f"{d}.{res + down_c}", "dec_out")
    return e


def select_generator(state: Mapping[str, Any]) -> dict[str, Any]:
    """The averaged generator's entries when the dict holds a ModelAverage, else the dict; prefixes up to
    `generator.` are dropped (DataParallel's `module.`, `averaged_model.`)."""
    averaged = {k: v for k, v in state.items() if "averaged_model." in k}
    source = averaged or state
    out = {}
    for key, value in source.items():
        at = key.find("generator.")
        if at < 0:
            continue
        out[key[at:]] = value
    if not out:
        raise ConversionError("state dict has no 'generator.*' keys (not an imaginaire COCO-FUNIT net_G)")
    return out


def infer_model_kwargs(state: Mapping[str, Any]) -> dict[str, Any]:
    state = select_generator(state)
    need = ("generator.content_encoder.model.0.layers.conv.weight", "generator.mlp.model.1.layers.linear.weight",
            "generator.usb")
    for key in need:
        if key not in state:
            raise ConversionError(f"checkpoint has no '{key}' (not an imaginaire COCO-FUNIT generator)")
    conv = lambda prefix: sorted({int(k[len(prefix):].split(".")[0]) for k in state if k.startswith(prefix)})  # noqa: E731
    content, style = conv("generator.content_encoder.model."), conv("generator.style_encoder.model.")
    res = len({k for k in state if k.startswith("generator.content_encoder.model.") and ".conv_block_0." in k
               and k.endswith("conv.weight")})
    filters = int(np.shape(state[need[0]])[0])
    return dict(filters=filters, mlp_dims=int(np.shape(state[need[1]])[0]),
                style_dims=int(np.shape(state["generator.mlp_content.model.1.layers.linear.weight"])[0]),
                usb_dims=int(np.shape(state["generator.usb"])[1]), res_blocks=res,
                content_downsamplings=len(content) - 1 - res, style_downsamplings=len(style) - 2)


def load_state_dict(model: COCOFUNITGenerator, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official generator state dict into `model` (strict both ways)."""
    return assign_strict(model, weight_map(model), to_arrays(select_generator(state_dict)),
                         {"missing": "; is --model a coco_funit generator with the checkpoint's widths?"})


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    return convert_pytorch_checkpoint(src, dst, model_name, COCOFUNITGenerator, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


CONVERTERS = {"pytorch": convert_pytorch}

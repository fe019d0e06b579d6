"""Official Sketch2Photo stage-1 generators (`latest_net_G_A.pth`, `..._G_B.pth`) -> Keras weights.

    python -m tools.convert_checkpoint --from=pytorch --model=sketch2photo_resnet9 --src=480_net_G_A.pth --dst=DIR

Key layout: the CycleGAN code base's `ResnetGenerator.model` Sequential (d = 2 down-samplings, n blocks):
    model.1                        stem conv7x7           -> stem_conv
    model.{4 + 3i}, i < d          stride-2 convs         -> down{i+1}_conv
    model.{4 + 3d + k}.conv_block.{1,5}   block k convs   -> block{k+1}_a_conv, block{k+1}_b_conv
    model.{4 + 3d + n + 3i}        transposed convs       -> up{i+1}_conv
    model.{4 + 3d + n + 3d + 1}    head conv7x7           -> head_conv
InstanceNorm has no parameters. G_A's attention conv (1x1, 256 -> 2, with bias) is the one (2, 256, 1, 1)
weight outside `model.`: its module name in the authors' file is not fixed here (the card gives the layer,
not the name), so it is found by shape. Conv kernels (out, in, kh, kw) and transposed (in, out, kh, kw)
both become Keras (kh, kw, ., .) by the same transpose. Widths, blocks and channels come from the shapes.

Stage 2 (`--model=sketch2photo_colorizer`), two source files:
- step 2's `latest_net_G_A.pth`, the whole colouriser: the official `AdaIN_Net` cuts AdaIN's VGG Sequential
  into enc_1 = [0:4], enc_2 = [4:11], enc_3 = [11:18], enc_4 = [18:27] (to relu3_4), so VGG conv n sits at
  `enc_i.(n - start_i)`; the decoder is ResnetGenerator's `decoder` Sequential: `decoder.k.conv_block.{1,5}`
  for the blocks, `decoder.{B + 3i}` the transposed convs, `decoder.{B + 7}` the head conv.
- AdaIN's `vgg_normalised.pth` alone (a bare Sequential, `n.weight`): its convs up to relu3_4 become a Keras
  weights file of `normalised_vgg`, the colouriser's `vgg_weights` for training stage 2 from scratch; the
  deeper convs (relu4_1 on) are reported as skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from official.core import registry
from official.core.checkpoint_convert import (
    ConversionError,
    ConversionReport,
    assign_strict,
    check_destination,
    convert_pytorch_checkpoint,
    convert_state_dict,
    read_pytorch_checkpoint,
    save_converted,
    to_arrays,
    torch_conv,
    unwrap_state_dict,
)
from research.generative.sketch2photo.model import (
    STYLE_LAYERS,
    Colorizer,
    Sketch2PhotoGenerator,
    normalised_vgg,
)

_MODEL_KEY = re.compile(r"^model\.(\d+)\.")


def _layout(arrays: Mapping[str, Any]) -> tuple[int, int, int]:
    """(blocks, first block index, downsamplings) from the `model.N.conv_block` keys."""
    blocks = sorted({int(m.group(1)) for k in arrays if (m := _MODEL_KEY.match(k)) and ".conv_block." in k})
    if not blocks:
        raise ConversionError("checkpoint has no 'model.N.conv_block.1.weight' (not a CycleGAN ResnetGenerator)")
    first = blocks[0]
    if (first - 4) % 3:
        raise ConversionError(f"first residual block at model.{first}: expected 4 + 3 x downsamplings")
    return len(blocks), first, (first - 4) // 3


def attention_key(arrays: Mapping[str, Any]) -> str | None:
    """The prefix of the attention conv: the only (2, C, 1, 1) weight outside `model.`."""
    found = [k[: -len(".weight")] for k, v in arrays.items() if k.endswith(".weight") and not k.startswith("model.")
             and getattr(v, "ndim", 0) == 4 and v.shape[0] == 2 and v.shape[2:] == (1, 1)]
    if len(found) > 1:
        raise ConversionError(f"several candidate attention convs: {', '.join(found)}")
    return found[0] if found else None


def _conv_entries(key: str, layer) -> list:
    return [(f"{key}.weight", layer.kernel, torch_conv), (f"{key}.bias", layer.bias, None)]


def weight_map(model: Sketch2PhotoGenerator, arrays: Mapping[str, Any]) -> list:
    blocks, first, down = _layout(arrays)
    names = {1: "stem_conv", **{4 + 3 * i: f"down{i + 1}_conv" for i in range(down)},
             **{first + blocks + 3 * i: f"up{i + 1}_conv" for i in range(down)},
             first + blocks + 3 * down + 1: "head_conv"}
    entries = []

    def conv(key: str, layer) -> None:
        entries.extend(_conv_entries(key, layer))

    for index, name in names.items():
        conv(f"model.{index}", model.get_layer(name))
    for k in range(blocks):
        conv(f"model.{first + k}.conv_block.1", model.get_layer(f"block{k + 1}_a_conv"))
        conv(f"model.{first + k}.conv_block.5", model.get_layer(f"block{k + 1}_b_conv"))
    if model.constructor_args["attention"]:
        key = attention_key(arrays)
        if key is None:
            raise ConversionError("checkpoint has no attention conv (a (2, C, 1, 1) weight outside 'model.'): "
                                  "a G_B file needs --model_args=attention=")
        conv(key, model.get_layer("attention").logits)
    return entries


def load_state_dict(model: Sketch2PhotoGenerator, state: Mapping[str, Any]) -> ConversionReport:
    arrays = to_arrays(state)
    return assign_strict(model, weight_map(model, arrays), arrays,
                         {"unexpected": ": an attention conv in a G_B file? convert it with the G_A model"})


def infer_model_kwargs(state: Mapping[str, Any]) -> dict[str, Any]:
    arrays = to_arrays(state)
    blocks, first, down = _layout(arrays)
    stem, head = arrays["model.1.weight"], arrays.get(f"model.{first + blocks + 3 * down + 1}.weight")
    if head is None:
        raise ConversionError(f"checkpoint has no 'model.{first + blocks + 3 * down + 1}.weight' (head conv)")
    kwargs = {"filters": int(stem.shape[0]), "input_channels": int(stem.shape[1]), "blocks": blocks,
              "downsamplings": down, "output_channels": int(head.shape[0])}
    if attention_key(arrays) is None:
        kwargs["attention"] = ""
    return kwargs


# AdaIN's VGG Sequential: the index of each conv up to relu3_4, and where AdaIN_Net's enc_1..enc_4 start.
VGG_INDEX = {"conv0": 0, "conv1_1": 2, "conv1_2": 5, "conv2_1": 9, "conv2_2": 12, "conv3_1": 16, "conv3_2": 19,
             "conv3_3": 22, "conv3_4": 25}
ENCODER_STARTS = (0, 4, 11, 18)
_DECODER_BLOCK = re.compile(r"^decoder\.(\d+)\.conv_block\.")


def encoder_key(index: int) -> str:
    """AdaIN_Net's key of VGG Sequential layer `index` (< 27): enc_i.(index - start of enc_i)."""
    stage = max(i for i, start in enumerate(ENCODER_STARTS) if start <= index)
    return f"enc_{stage + 1}.{index - ENCODER_STARTS[stage]}"


def vgg_weight_map(vgg, key=lambda index: str(index)) -> list:
    return [e for name, index in VGG_INDEX.items() for e in _conv_entries(key(index), vgg.get_layer(name))]


def _decoder_blocks(arrays: Mapping[str, Any]) -> int:
    blocks = sorted({int(m.group(1)) for k in arrays if (m := _DECODER_BLOCK.match(k))})
    if blocks != list(range(len(blocks))) or not blocks:
        raise ConversionError("checkpoint has no 'decoder.0.conv_block.1.weight' (not step 2's AdaIN_Net G_A)")
    return len(blocks)


def colorizer_weight_map(model: Colorizer, arrays: Mapping[str, Any]) -> list:
    blocks, decoder = _decoder_blocks(arrays), model.decoder
    entries = vgg_weight_map(model.encoder, encoder_key)
    for k in range(blocks):
        entries += _conv_entries(f"decoder.{k}.conv_block.1", decoder.get_layer(f"block{k + 1}_a_conv"))
        entries += _conv_entries(f"decoder.{k}.conv_block.5", decoder.get_layer(f"block{k + 1}_b_conv"))
    for i in range(2):
        entries += _conv_entries(f"decoder.{blocks + 3 * i}", decoder.get_layer(f"up{i + 1}_conv"))
    return entries + _conv_entries(f"decoder.{blocks + 7}", decoder.get_layer("head_conv"))


def load_colorizer_state_dict(model: Colorizer, state: Mapping[str, Any]) -> ConversionReport:
    arrays = to_arrays(state)
    return assign_strict(model, colorizer_weight_map(model, arrays), arrays)


def infer_colorizer_kwargs(state: Mapping[str, Any]) -> dict[str, Any]:
    return {"blocks": _decoder_blocks(state)}


def is_bare_vgg(state: Mapping[str, Any]) -> bool:
    """AdaIN's vgg_normalised.pth: a Sequential's `n.weight` keys, conv0 a 1x1 3 -> 3."""
    return "0.weight" in state and "2.weight" in state and tuple(state["0.weight"].shape) == (3, 3, 1, 1)


def convert_vgg(state: Mapping[str, Any], src: str, dst: str, model_name: str) -> dict[str, Any]:
    """AdaIN's VGG to relu3_4 -> DST/model.weights.h5 (+ model.keras, conversion.json) of `normalised_vgg`."""
    arrays = to_arrays(state)
    vgg = normalised_vgg(outputs=STYLE_LAYERS)
    entries = vgg_weight_map(vgg)
    used = {key for key, _, _ in entries}
    others = [k for k in arrays if k not in used]
    wrong = [k for k in others if not k.split(".")[0].isdigit() or int(k.split(".")[0]) < 27]
    if wrong:
        raise ConversionError(f"{src} ({model_name}): tensor '{wrong[0]}' is not one of AdaIN's VGG convs")
    try:
        report = assign_strict(vgg, entries, {k: arrays[k] for k in used if k in arrays})
    except ConversionError as err:
        raise ConversionError(f"{src} ({model_name}): {err}") from None
    report.skipped.extend(sorted(others, key=lambda k: (int(k.split(".")[0]), k)))
    payload = {"source": os.path.abspath(src), "model": "normalised_vgg", "use_as": "model.vgg_weights",
               **report.to_json()}
    return {"tensors": len(report.assigned), "skipped": len(report.skipped),
            "outputs": save_converted(vgg, dst, payload)}


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts an official state dict `src` for registered `model_name` into folder `dst`: a stage-1 G_A / G_B
    for the generators; for the colourisers step 2's G_A, or AdaIN's VGG alone (its weights file)."""
    if getattr(registry.get_model_builder(model_name), "model_cls", None) is not Colorizer:
        return convert_pytorch_checkpoint(src, dst, model_name, Sketch2PhotoGenerator, load_state_dict,
                                          infer_model_kwargs, allow_pickle, checkpoint_key, **overrides)
    check_destination(dst)
    state = unwrap_state_dict(read_pytorch_checkpoint(src, allow_pickle), checkpoint_key)
    if is_bare_vgg(state):
        return convert_vgg(state, src, dst, model_name)
    if "enc_1.0.weight" not in state:
        raise ConversionError(f"{src} ({model_name}): neither step 2's G_A (no 'enc_1.0.weight') nor AdaIN's "
                              "vgg_normalised.pth (no '0.weight' of shape (3, 3, 1, 1))")
    return convert_state_dict(state, src, dst, model_name, Colorizer, load_colorizer_state_dict,
                              infer_colorizer_kwargs, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

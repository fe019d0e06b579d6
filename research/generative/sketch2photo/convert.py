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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from official.core.checkpoint_convert import (
    ConversionError,
    ConversionReport,
    assign_strict,
    convert_pytorch_checkpoint,
    to_arrays,
    torch_conv,
)
from research.generative.sketch2photo.model import Sketch2PhotoGenerator

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


def weight_map(model: Sketch2PhotoGenerator, arrays: Mapping[str, Any]) -> list:
    blocks, first, down = _layout(arrays)
    names = {1: "stem_conv", **{4 + 3 * i: f"down{i + 1}_conv" for i in range(down)},
             **{first + blocks + 3 * i: f"up{i + 1}_conv" for i in range(down)},
             first + blocks + 3 * down + 1: "head_conv"}
    entries = []

    def conv(key: str, layer) -> None:
        entries.append((f"{key}.weight", layer.kernel, torch_conv))
        entries.append((f"{key}.bias", layer.bias, None))

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


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts an official G_A / G_B state dict `src` for registered `model_name` into folder `dst`."""
    return convert_pytorch_checkpoint(src, dst, model_name, Sketch2PhotoGenerator, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

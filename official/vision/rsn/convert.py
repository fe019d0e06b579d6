"""Official PyTorch RSN checkpoints (caiyuanhao1998/RSN) -> Keras weights for the zoo's RSN variants.

    python -m tools.convert_checkpoint --from=pytorch --model=rsn_18 --src=iter-96000.pth --dst=DIR

Checkpoint file: the authors' trainer (cvpack engine `save_checkpoint`) writes
{"model": state dict, "optimizer", "scheduler", "iteration"} with DataParallel's "module." already
stripped; a bare state dict, a "state_dict" entry and a "module." prefix are accepted too.

Key names of the official module (exps/RSN18.coco/network.py; `RSN.stage{i}` are attributes, so the
unregistered `mspn_modules` list adds no names). Every conv is a `conv_bn_relu` module, i.e. the keys
`{module}.conv.weight`, `{module}.conv.bias`, `{module}.bn.{weight,bias,running_mean,running_var}`
(`num_batches_tracked` has no Keras counterpart: skipped and reported). Module -> Keras layer prefix:

    top.conv                                              -> stem
    stage{s}.downsample.layer{l+1}.{b}.conv_bn_relu1      -> s{s}_down_l{l}_b{b}_conv1
    stage{s}.downsample.layer{l+1}.{b}.conv_bn_relu2_{i}_{j} -> s{s}_down_l{l}_b{b}_conv2_{i}_{j}
    stage{s}.downsample.layer{l+1}.{b}.conv_bn_relu3      -> s{s}_down_l{l}_b{b}_conv3
    stage{s}.downsample.layer{l+1}.0.downsample           -> s{s}_down_l{l}_b0_down (shortcut conv)
    stage{s}.upsample.up{u+1}.u_skip                      -> s{s}_up_u{u}_lateral (u = 0 coarsest)
    stage{s}.upsample.up{u+1}.up_conv                     -> s{s}_up_u{u}_up (u > 0)
    stage{s}.upsample.up{u+1}.skip1 / skip2               -> s{s}_up_u{u}_skip1 / skip2 (not last stage)
    stage{s}.upsample.up{levels}.cross_conv               -> s{s}_up_cross (not last stage)
    stage{s}.upsample.up{u+1}.res_conv1 / res_conv2       -> s{s}_up_u{u}_res1 / res2

The mapping is derived from the model's constructor arguments (stages, blocks per level, widths, steps),
so rsn_18 / rsn_18x4 / rsn_50 / rsn_50x4 / rsn_101 and small test configurations all convert; a shortcut
conv exists where the official `_make_layer` makes one (stride 2, or input width != level width).
Conversion is strict in both directions: a missing, unexpected or mis-shaped key is a one-line
`ConversionError` naming it. The released module has no PRM (defined, never instantiated), so a model
built with use_prm=True cannot be filled from it.

Layouts: conv (out, in, kh, kw) -> (kh, kw, in, out); biases and BatchNorm weight/bias/running_mean/
running_var -> bias, gamma/beta/moving_mean/moving_variance. The number of keypoints is read from the
checkpoint (res_conv2 output channels: 17 COCO, 16 MPII); the input size is not stored in the weights
(pass --model_args for MPII's 256x256, e.g. input_shape=[256,256,3]).

mmpose RSN checkpoints ("backbone.top.top.0.conv.weight", "backbone.multi_stage_rsn.*", "head.*",
convs without biases, heads outside the backbone) are not converted: they are recognised and rejected
with a message saying so.
"""

from __future__ import annotations

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
from official.vision.rsn.model import RSN

__all__ = [
    "CONVERTERS",
    "ConversionError",
    "convert_pytorch",
    "infer_model_kwargs",
    "load_state_dict",
    "module_map",
    "weight_map",
]

def module_map(model: RSN) -> list[tuple[str, str]]:
    """(official conv_bn_relu module path, Keras layer prefix) in the official state-dict order."""
    args = model.constructor_args
    blocks = tuple(args["blocks_per_level"])
    widths = tuple(args["level_widths"])
    num_steps = int(args["num_steps"])
    stages = int(args["num_stages"])
    levels = len(blocks)
    pairs = [("top.conv", "stem")]
    for s in range(stages):
        last = s == stages - 1
        in_planes = int(args["stem_width"])
        for level, count in enumerate(blocks):
            for b in range(count):
                src, dst = f"stage{s}.downsample.layer{level + 1}.{b}", f"s{s}_down_l{level}_b{b}"
                pairs.append((f"{src}.conv_bn_relu1", f"{dst}_conv1"))
                for i in range(1, num_steps + 1):
                    for j in range(1, i + 1):
                        pairs.append((f"{src}.conv_bn_relu2_{i}_{j}", f"{dst}_conv2_{i}_{j}"))
                pairs.append((f"{src}.conv_bn_relu3", f"{dst}_conv3"))
                if b == 0 and (level > 0 or in_planes != widths[level]):
                    pairs.append((f"{src}.downsample", f"{dst}_down"))
            in_planes = widths[level]
        for u in range(levels):
            src, dst = f"stage{s}.upsample.up{u + 1}", f"s{s}_up_u{u}"
            pairs.append((f"{src}.u_skip", f"{dst}_lateral"))
            if u > 0:
                pairs.append((f"{src}.up_conv", f"{dst}_up"))
            if not last:
                pairs += [(f"{src}.skip1", f"{dst}_skip1"), (f"{src}.skip2", f"{dst}_skip2")]
                if u == levels - 1:
                    pairs.append((f"{src}.cross_conv", f"s{s}_up_cross"))
            pairs += [(f"{src}.res_conv1", f"{dst}_res1"), (f"{src}.res_conv2", f"{dst}_res2")]
    return pairs


def weight_map(model: RSN) -> list[tuple[str, Any, Any]]:
    """(official key, Keras variable, layout transform or None) for every weight the checkpoint fills."""
    entries = []
    for module, prefix in module_map(model):
        conv = model.get_layer(f"{prefix}_conv")
        bn = model.get_layer(f"{prefix}_bn")
        entries += [
            (f"{module}.conv.weight", conv.kernel, torch_conv),
            (f"{module}.conv.bias", conv.bias, None),
            (f"{module}.bn.weight", bn.gamma, None),
            (f"{module}.bn.bias", bn.beta, None),
            (f"{module}.bn.running_mean", bn.moving_mean, None),
            (f"{module}.bn.running_var", bn.moving_variance, None),
        ]
    return entries


def load_state_dict(model: RSN, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official RSN state dict (arrays or torch tensors) into `model`; strict in both directions.

    Raises ConversionError (one line) naming the first missing key, the first unexpected key or a key
    whose shape does not fit; `model` is only written once every check has passed.
    """
    arrays = to_arrays(state_dict)
    if any(k.startswith(("backbone.", "head.")) for k in arrays):
        raise ConversionError(
            "this looks like an mmpose checkpoint (backbone.* / head.* keys); only the authors' RSN "
            "checkpoints (top.*, stage{i}.*) convert"
        )
    return assign_strict(model, weight_map(model), arrays, {
        "missing": ": a checkpoint of another variant?",
        "unexpected": ": more stages or blocks than the model?",
        "unwritten": " (the released RSN has no PRM: build it with use_prm=False)",
    })


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments the checkpoint fixes: the keypoint count (res_conv2's output channels)."""
    for key, value in state_dict.items():
        if key.endswith(".res_conv2.conv.weight"):
            return {"num_keypoints": int(value.shape[0])}
    return {}


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered model `model_name` into folder `dst`
    (model.weights.h5 to load with `model.load_weights`, model.keras, conversion.json)."""
    return convert_pytorch_checkpoint(src, dst, model_name, RSN, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

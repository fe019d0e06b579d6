"""Official ShapeGF PyTorch checkpoints -> Keras weights for the ShapeGF networks.

    python -m tools.convert_checkpoint --from=pytorch --model=shapegf_ae --src=pretrained/recon/airplane_recon_add.pt --dst=DIR
    python -m tools.convert_checkpoint --from=pytorch --model=shapegf_gen --src=pretrained/gen/airplane_gen_add.pt --dst=DIR

The trainers' `save` writes one dict: 'enc' (encoder state dict), 'sn' (score net), and for generation
'gen' / 'dis' (latent GAN), plus optimizer states, 'epoch' and 'step'. Key map (strict both ways,
official/core/checkpoint_convert.assign_strict), Conv1d kernels (out, in, 1) and Linear (out, in) -> Dense (in, out):
    enc.conv{1-4}.weight / bias, enc.bn{1-4}.*        -> encoder conv{i} kernel / bias, bn{i} gamma / beta / moving_*
    enc.fc{1-3}.weight / bias, enc.fc_bn{1,2}.*       -> encoder fc{i}, fc_bn{i}
    sn.conv_p.*, sn.conv_out.*, sn.bn_out.*           -> score_net conv_p, conv_out, bn_out
    sn.blocks.{i}.{bn_0,bn_1,fc_0,fc_1,fc_c}.*        -> score_net blocks_{i}/{...}
    gen.layers.{i}.*, gen.out.*                       -> generator layers_{i}, out
Skipped and reported: gen.bns.* and gen.out_bn.* (allocated, unused with use_bn / output_bn False: 1,280
parameters), every 'dis' tensor (the critic is a training-time network), num_batches_tracked. The
architecture (zdim, hidden, blocks, generator widths) is read from the tensors' shapes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from official.core.checkpoint_convert import (
    ConversionError,
    ConversionReport,
    assign_strict,
    check_destination,
    convert_state_dict,
    read_pytorch_checkpoint,
    to_arrays,
)
from research.three_d.shapegf.model import ShapeGF

__all__ = ["CONVERTERS", "convert_pytorch", "flatten_checkpoint", "load_state_dict", "weight_map"]

PARTS = ("enc", "sn", "gen", "dis")
UNUSED = ("gen.bns.", "gen.out_bn.", "dis.")


def dense(w: np.ndarray) -> np.ndarray:
    """Conv1d (out, in, 1) or Linear (out, in) weight -> Dense kernel (in, out)."""
    return np.transpose(w.reshape(w.shape[0], w.shape[1]))


def _dense(prefix: str, layer) -> list:
    return [(f"{prefix}.weight", layer.kernel, dense), (f"{prefix}.bias", layer.bias, None)]


def _bn(prefix: str, layer) -> list:
    return [(f"{prefix}.weight", layer.gamma, None), (f"{prefix}.bias", layer.beta, None),
            (f"{prefix}.running_mean", layer.moving_mean, None), (f"{prefix}.running_var", layer.moving_variance, None)]


def weight_map(model: ShapeGF) -> list[tuple[str, Any, Any]]:
    """(official key, Keras variable, layout transform or None) for every weight of `model`."""
    enc, sn = model.encoder, model.score_net
    entries = []
    convs = sum(1 for layer in enc.layers if re.fullmatch(r"conv\d+", layer.name))
    for i in range(1, convs + 1):
        entries += _dense(f"enc.conv{i}", enc.get_layer(f"conv{i}")) + _bn(f"enc.bn{i}", enc.get_layer(f"bn{i}"))
    fcs = sum(1 for layer in enc.layers if re.fullmatch(r"fc\d+", layer.name))
    for i in range(1, fcs + 1):
        entries += _dense(f"enc.fc{i}", enc.get_layer(f"fc{i}"))
        if i < fcs:
            entries += _bn(f"enc.fc_bn{i}", enc.get_layer(f"fc_bn{i}"))
    entries += _dense("sn.conv_p", sn.get_layer("conv_p"))
    for i in range(model.constructor_args["blocks"]):
        block = sn.get_layer(f"blocks_{i}")
        for part in ("bn_0", "bn_1"):
            entries += _bn(f"sn.blocks.{i}.{part}", getattr(block, part))
        for part in ("fc_0", "fc_1", "fc_c"):
            entries += _dense(f"sn.blocks.{i}.{part}", getattr(block, part))
    entries += _bn("sn.bn_out", sn.get_layer("bn_out")) + _dense("sn.conv_out", sn.get_layer("conv_out"))
    if model.constructor_args["generator_dims"]:
        gen = model.generator
        for i in range(len(model.constructor_args["generator_dims"])):
            entries += _dense(f"gen.layers.{i}", gen.get_layer(f"layers_{i}"))
        entries += _dense("gen.out", gen.get_layer("out"))
    return entries


def flatten_checkpoint(checkpoint: Mapping[str, Any]) -> dict[str, Any]:
    """The trainer's {'enc': sd, 'sn': sd, 'gen': sd, 'dis': sd, ...} as one 'enc.conv1.weight'-style dict
    (a dict already flat in that form passes through); 'module.' prefixes (DataParallel) are dropped."""
    if any(isinstance(checkpoint.get(p), Mapping) for p in PARTS):
        flat = {}
        for part in PARTS:
            for key, value in (checkpoint.get(part) or {}).items():
                flat[f"{part}.{key[7:] if key.startswith('module.') else key}"] = value
        return flat
    return dict(checkpoint)


def load_state_dict(model: ShapeGF, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes the flattened checkpoint into `model`; unused generator BNs and the critic are skipped and reported."""
    arrays = to_arrays(flatten_checkpoint(state_dict))
    unused = sorted(k for k in arrays if k.startswith(UNUSED))
    if not model.constructor_args["generator_dims"]:
        unused += sorted(k for k in arrays if k.startswith("gen."))
    kept = {k: v for k, v in arrays.items() if k not in unused}
    report = assign_strict(model, weight_map(model), kept, {
        "missing": ": a ShapeGF trainer checkpoint has 'enc' and 'sn' (and 'gen' for shapegf_gen)",
        "unexpected": ": a 'cbn' (conditional batch norm) score net or a stochastic encoder is not supported",
    })
    return ConversionReport(report.assigned, sorted(set(report.skipped + unused)))


def infer_model_kwargs(state: Mapping[str, Any]) -> dict[str, Any]:
    """zdim, hidden, blocks, widths and generator widths from the tensors' shapes."""
    flat = flatten_checkpoint(state)
    if "sn.conv_p.weight" not in flat or "enc.fc3.weight" not in flat:
        raise ConversionError("checkpoint has no 'sn.conv_p.weight' / 'enc.fc3.weight' (not a ShapeGF trainer checkpoint)")
    kw: dict[str, Any] = {
        "zdim": int(flat["enc.fc3.weight"].shape[0]),
        "hidden": int(flat["sn.conv_p.weight"].shape[0]),
        "blocks": len({k.split(".")[2] for k in flat if k.startswith("sn.blocks.")}),
        "conv_widths": tuple(int(flat[f"enc.conv{i}.weight"].shape[0]) for i in range(1, 5)),
        "fc_widths": tuple(int(flat[f"enc.fc{i}.weight"].shape[0]) for i in (1, 2)),
    }
    gen_layers = sorted({int(k.split(".")[2]) for k in flat if k.startswith("gen.layers.")})
    if gen_layers:
        kw["generator_dims"] = tuple(int(flat[f"gen.layers.{i}.weight"].shape[0]) for i in gen_layers)
    return kw


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the ShapeGF trainer checkpoint `src` for registered model `model_name` into folder `dst`."""
    check_destination(dst)
    checkpoint = read_pytorch_checkpoint(src, allow_pickle)
    state = flatten_checkpoint(checkpoint[checkpoint_key] if checkpoint_key else checkpoint)
    inferred = infer_model_kwargs(state)
    if "generator_dims" not in inferred:
        inferred["generator_dims"] = ()
    return convert_state_dict(state, src, dst, model_name, ShapeGF, load_state_dict, lambda _: inferred, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

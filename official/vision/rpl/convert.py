"""ARPL / RPL PyTorch checkpoints -> Keras weights for the RPL networks.

    python -m tools.convert_checkpoint --from=pytorch --model=rpl_classifier32 --src=NET.pth --dst=DIR
    python -m tools.convert_checkpoint --from=pytorch --model=rpl_classifier32 --src=NET.pth --dst=DIR \
        --model_args=criterion=CRITERION.pth

The authors' `utils.save_networks(net, dir, name, criterion=criterion)` writes two state dicts:
`{dir}/checkpoints/{name}_{loss}.pth` (the classifier32 net, "module."-prefixed when trained under
DataParallel) and `{dir}/checkpoints/{name}_{loss}_criterion.pth` (the RPLoss module: "radius" (1,) and
"Dist.centers" (K * num_centers, 128)). `--src` may name either file; the other one is found beside it by
that naming (`X.pth` <-> `X_criterion.pth`) unless `--model_args=criterion=PATH` names it; a single file
holding both key sets also converts.

Key map (strict both ways, official/core/checkpoint_convert.assign_strict):
    conv{i}.weight (out, in, 3, 3)                    -> conv{i} kernel (3, 3, in, out)        i = 1..9
    bn{i}.weight / bias / running_mean / running_var  -> bn{i} gamma / beta / moving_mean / moving_variance
    Dist.centers (K * C, 128)                         -> reciprocal_points/points
    radius (1,)                                       -> reciprocal_points/radius
Skipped and reported: fc.weight (the net's own linear head, unused by the RPL logits), bn10.* (declared,
never called), num_batches_tracked. K (`classes`) is read from Dist.centers (rows / num_centers; num_centers=C via
--model_args when the run used --num-centers C).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from official.core.checkpoint_convert import (
    ConversionError,
    ConversionReport,
    assign_strict,
    check_destination,
    convert_state_dict,
    read_pytorch_checkpoint,
    to_arrays,
    torch_conv,
    unwrap_state_dict,
)
from official.vision.backbones.classifier32 import CLASSIFIER32_WIDTHS
from official.vision.rpl.model import RPLNet

__all__ = ["CONVERTERS", "convert_pytorch", "criterion_path", "load_state_dict", "weight_map"]

CRITERION_KEYS = ("Dist.centers", "radius")
UNUSED_PREFIXES = ("fc.", "bn10.")  # in the official net's state dict, never on the RPL logits' path
CRITERION_SUFFIX = "_criterion.pth"


def weight_map(model: RPLNet) -> list[tuple[str, Any, Any]]:
    """(official key, Keras variable, layout transform or None) for every weight of `model`."""
    entries = []
    for i in range(1, len(CLASSIFIER32_WIDTHS) + 1):
        bn = model.get_layer(f"bn{i}")
        entries += [
            (f"conv{i}.weight", model.get_layer(f"conv{i}").kernel, torch_conv),
            (f"bn{i}.weight", bn.gamma, None),
            (f"bn{i}.bias", bn.beta, None),
            (f"bn{i}.running_mean", bn.moving_mean, None),
            (f"bn{i}.running_var", bn.moving_variance, None),
        ]
    rp = model.reciprocal_points
    return entries + [("Dist.centers", rp.points, None), ("radius", rp.radius, None)]


def load_state_dict(model: RPLNet, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes the merged net + criterion state dict (arrays or torch tensors) into `model`; fc.* and bn10.*
    are skipped and reported; anything else missing, unexpected or mis-shaped is a one-line error."""
    arrays = to_arrays(unwrap_state_dict(state_dict))
    unused = sorted(k for k in arrays if k.startswith(UNUSED_PREFIXES))
    kept = {k: v for k, v in arrays.items() if k not in unused}
    report = assign_strict(model, weight_map(model), kept, {
        "missing": ": the criterion file (radius, Dist.centers) beside the net, or --model_args=criterion=PATH?",
        "unexpected": ": not an RPLoss classifier32 checkpoint (ARPLoss adds points of another layout)?",
    })
    return ConversionReport(report.assigned, sorted(report.skipped + unused))


def criterion_path(src: str) -> str:
    """The file save_networks writes beside `src`: X.pth <-> X_criterion.pth."""
    if src.endswith(CRITERION_SUFFIX):
        return src[: -len(CRITERION_SUFFIX)] + ".pth"
    return os.path.splitext(src)[0] + CRITERION_SUFFIX


def read_pair(src: str, criterion: str = "", allow_pickle: bool = False, checkpoint_key: str = "") -> dict[str, Any]:
    """Net and criterion tensors of `src` (+ the criterion file named or found beside it), merged."""
    state = unwrap_state_dict(read_pytorch_checkpoint(src, allow_pickle), checkpoint_key)
    if all(k in state for k in CRITERION_KEYS) and any(k.startswith("conv1.") for k in state):
        return state  # one file with both
    other = criterion or criterion_path(src)
    if not os.path.isfile(other):
        raise ConversionError(
            f"{src}: holds {'the criterion' if 'radius' in state else 'the net'} only and {other} does not exist "
            "(save_networks writes NAME.pth and NAME_criterion.pth; name it with --model_args=criterion=PATH)"
        )
    state.update(unwrap_state_dict(read_pytorch_checkpoint(other, allow_pickle)))
    return state


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    criterion: str = "", **overrides: Any) -> dict[str, Any]:
    """Converts the ARPL checkpoint pair of `src` for registered RPL model `model_name` into folder `dst`
    (model.weights.h5, model.keras, conversion.json)."""
    check_destination(dst)
    state = read_pair(src, str(criterion or ""), allow_pickle, checkpoint_key)
    centers = max(int(overrides.get("num_centers", 1)), 1)

    def infer(state: Mapping[str, Any]) -> dict[str, Any]:  # K = rows of the points / centres per class
        return {"classes": int(state["Dist.centers"].shape[0]) // centers} if "Dist.centers" in state else {}

    return convert_state_dict(state, src, dst, model_name, RPLNet, load_state_dict, infer, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

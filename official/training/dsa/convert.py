"""DSA's released CIFAR-10 checkpoints -> the zoo's projection-shortcut CIFAR ResNets, dense and pruned.

    python -m tools.convert_checkpoint --from=pytorch --model=resnet56_cifar_dsconv --src=res56-0.5/ckpt.t7 --dst=DIR

The checkpoints (walkerning/differentiable-sparsity-allocation, test.sh: `ckpt/res{20,56}/*/ckpt.t7`) hold
`{"net": state_dict, "acc", "epoch"}` of `cifar10_resnet{20,56}_dsconv_masked_plan1_bn` (tester.py reads
`checkpoint["net"]`); a whole pickled module is accepted too (--allow_pickle: its tensors are read from the
module tree, the authors' classes replaced by stubs). Every MaskedConvBNReLU holds conv.weight, bn.*,
and the DSA state `mask` (the channel mask its forward multiplies after BN), `invsigmoid_keep_ratio`
(theta, alpha = sigmoid), `invsp_beta_1`, `invsp_beta_2` (beta2 = softplus) and `temperature`:
    stem                  -> resnet_stem_{conv, bn}
    layer{s}.{b}.op_1/op_2 -> resnet_layer{s}_{b}_{1,2}_{conv, bn}
    layer{s}.{b}.skip_op  -> resnet_layer{s}_{b}_down_{conv, bn}   (first block of stages 2 and 3)
    classifier.0          -> logits
The official forward is conv -> BN -> x mask (-> ReLU), so a masked channel's BN output is zero: it is
folded into the dense model as gamma = beta = 0 (exactly zero output), which is written as
model.weights.h5 / model.keras (the official network's function at full width). The physically pruned
network (pruned.keras: what one runs) keeps, per channel group (graph.py), the channels some member's mask
keeps (all of them agree in the released checkpoints, where a group shares one mask), built by
prune.prune_model from the folded dense model, so its logits equal the masked network's either way.
conversion.json adds the groups (official module names, kept channels, alpha, beta2) and the MAdds.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from official.core.checkpoint_convert import (
    ConversionError,
    assign_strict,
    check_destination,
    read_pytorch_checkpoint,
    save_converted,
    to_arrays,
    torch_conv,
    unwrap_state_dict,
)

DSA_BUFFERS = ("mask", "invsigmoid_keep_ratio", "invsp_beta_1", "invsp_beta_2", "temperature")


def module_names(blocks_per_stage: int, stages: int = 3) -> dict[str, str]:
    """Official MaskedConvBNReLU prefix -> the zoo's conv/BN name prefix, in forward order."""
    names = {"stem": "resnet_stem"}
    for s in range(1, stages + 1):
        for b in range(blocks_per_stage):
            src, dst = f"layer{s}.{b}", f"resnet_layer{s}_{b}"
            names[f"{src}.op_1"] = f"{dst}_1"
            names[f"{src}.op_2"] = f"{dst}_2"
            if b == 0 and s > 1:
                names[f"{src}.skip_op"] = f"{dst}_down"
    return names


def weight_map(model) -> list[tuple[str, Any, Any]]:
    """(official key, Keras variable, layout transform or None) for every weight of `model`."""
    args = model.constructor_args
    get = model.get_layer
    entries = []
    for src, dst in module_names(args["blocks_per_stage"], len(args["widths"])).items():
        bn = get(f"{dst}_bn")
        entries += [
            (f"{src}.conv.weight", get(f"{dst}_conv").kernel, torch_conv),
            (f"{src}.bn.weight", bn.gamma, None),
            (f"{src}.bn.bias", bn.beta, None),
            (f"{src}.bn.running_mean", bn.moving_mean, None),
            (f"{src}.bn.running_var", bn.moving_variance, None),
        ]
    logits = get("logits")
    return entries + [("classifier.0.weight", logits.kernel, np.transpose), ("classifier.0.bias", logits.bias, None)]


def module_tensors(obj: Any, prefix: str = "") -> dict[str, Any]:
    """The persistent parameters and buffers of a pickled module tree (torch modules or unpickler stubs,
    whose state is kept in `_state`), keyed like its state_dict."""
    state = getattr(obj, "_state", None)
    state = state if isinstance(state, Mapping) else vars(obj)
    out: dict[str, Any] = {}
    skip = state.get("_non_persistent_buffers_set", set())
    for table in ("_parameters", "_buffers"):
        for name, value in (state.get(table) or {}).items():
            if value is not None and name not in skip:
                out[prefix + name] = value
    for name, child in (state.get("_modules") or {}).items():
        if child is not None:
            out.update(module_tensors(child, f"{prefix}{name}."))
    return out


def read_state_dict(src: str, allow_pickle: bool = False, checkpoint_key: str = "") -> dict[str, np.ndarray]:
    """The network's arrays of `src`: the "net" entry (official tester.py) or another entry / a bare state
    dict (checkpoint_convert.unwrap_state_dict), or the tensors of a pickled module."""
    checkpoint = read_pytorch_checkpoint(src, allow_pickle)
    if not isinstance(checkpoint, Mapping):
        checkpoint = {"net": checkpoint}
    key = checkpoint_key or ("net" if "net" in checkpoint else "")
    net = checkpoint.get(key) if key else None
    if net is not None and not isinstance(net, Mapping):
        return to_arrays(module_tensors(net))
    return to_arrays(unwrap_state_dict(checkpoint, key))


def split_dsa_state(arrays: Mapping[str, np.ndarray], prefixes) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """(network arrays, {official module prefix: {DSA buffer: array}}); DSA buffers of modules the model
    lacks stay with the network arrays (assign_strict names them as unexpected)."""
    weights, dsa = {}, {p: {} for p in prefixes}
    for key, value in arrays.items():
        prefix, _, leaf = key.rpartition(".")
        if leaf in DSA_BUFFERS and prefix in dsa:
            dsa[prefix][leaf] = value
        else:
            weights[key] = value
    return weights, dsa


def check_masks_present(dsa: Mapping[str, dict]) -> None:
    for prefix, buffers in dsa.items():
        if "mask" not in buffers:
            raise ConversionError(f"checkpoint has no '{prefix}.mask' (not a DSA masked_plan1 checkpoint?)")


def member_masks(dsa: Mapping[str, dict], names: Mapping[str, str], groups) -> dict[str, np.ndarray]:
    """Keras conv name -> the official module's 0/1 mask (checked binary and of the conv's width)."""
    masks = {}
    widths = {m: w for g in groups for m, w in zip(g.members, g.widths, strict=True)}
    for src, dst in names.items():
        mask = np.asarray(dsa[src]["mask"], np.float64).reshape(-1)
        conv = f"{dst}_conv"
        if mask.shape[0] != widths.get(conv, -1):
            raise ConversionError(f"'{src}.mask' has {mask.shape[0]} channels, the model's {conv} {widths.get(conv)}")
        if not np.all((mask == 0) | (mask == 1)):
            raise ConversionError(f"'{src}.mask' is not a 0/1 mask")
        masks[conv] = mask
    return masks


def fold_masks(model, groups, masks: Mapping[str, np.ndarray]) -> None:
    """gamma = beta = 0 in each member's BN where its mask is 0: the BN output is then exactly 0, as the
    official conv -> BN -> x mask."""
    for g in groups:
        for member, norm in zip(g.members, g.norms, strict=True):
            bn = model.get_layer(norm)
            keep = masks[member].astype(bn.gamma.dtype)
            bn.gamma.assign(np.asarray(bn.gamma) * keep)
            bn.beta.assign(np.asarray(bn.beta) * keep)


def keep_from_masks(groups, masks: Mapping[str, np.ndarray]) -> tuple[dict[int, np.ndarray], list[bool]]:
    """keep[g]: the channels some member of group g keeps; and whether the members' masks agree."""
    keep, tied = {}, []
    for g in groups:
        stack = np.stack([masks[m] for m in g.members])
        union = np.flatnonzero(stack.max(axis=0) > 0)
        if len(union) == 0:
            raise ConversionError(f"every channel of the group of {g.primal} is masked (nothing to keep)")
        keep[g.index] = union
        tied.append(bool(np.all(stack == stack[0])))
    return keep, tied


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _softplus(x: float) -> float:
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


def group_report(groups, names: Mapping[str, str], dsa: Mapping[str, dict], keep, tied) -> list[dict[str, Any]]:
    """Per group: official module names, channels, kept channels, and the primal module's alpha / beta2."""
    official = {f"{dst}_conv": src for src, dst in names.items()}
    rows = []
    for g, agree in zip(groups, tied, strict=True):
        primal = dsa[official[g.primal]]
        row = {"members": [official[m] for m in g.members], "channels": g.channels,
               "kept": [int(i) for i in keep[g.index]], "masks_agree": agree}
        if "invsigmoid_keep_ratio" in primal:
            row["alpha"] = _sigmoid(float(np.asarray(primal["invsigmoid_keep_ratio"]).reshape(-1)[0]))
        if "invsp_beta_2" in primal:
            row["beta2"] = _softplus(float(np.asarray(primal["invsp_beta_2"]).reshape(-1)[0]))
        rows.append(row)
    return rows


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts an official DSA checkpoint for a registered projection-shortcut CifarResNet into `dst`:
    model.weights.h5 / model.keras (dense, masks folded), pruned.keras (channels removed), conversion.json."""
    from official.core import registry
    from official.core.madds import count_madds
    from official.training.dsa.graph import channel_groups
    from official.training.dsa.prune import prune_model

    check_destination(dst)
    arrays = read_state_dict(src, allow_pickle, checkpoint_key)
    if "classifier.0.weight" in arrays:
        overrides = {"classes": int(arrays["classifier.0.weight"].shape[0]), **overrides}
    model = registry.create_model(model_name, **overrides)
    names = module_names(model.constructor_args["blocks_per_stage"], len(model.constructor_args["widths"]))
    try:
        weights, dsa = split_dsa_state(arrays, names)
        report = assign_strict(model, weight_map(model), weights, {
            "missing": ": a checkpoint of another depth, or not of a dsconv (projection-shortcut) model?",
            "unexpected": ": a checkpoint of another depth or shortcut kind?",
        })
        check_masks_present(dsa)
        groups = channel_groups(model)
        masks = member_masks(dsa, names, groups)
        keep, tied = keep_from_masks(groups, masks)
    except ConversionError as err:
        raise ConversionError(f"{src} ({model_name}): {err}") from None
    fold_masks(model, groups, masks)
    pruned = prune_model(model, groups, keep)
    before, after = count_madds(model).total, count_madds(pruned).total
    payload = {
        "source": os.path.abspath(src), "model": model_name, "config": model.get_config(), **report.to_json(),
        "dsa_buffers": sorted(f"{p}.{b}" for p, bufs in dsa.items() for b in bufs),
        "groups": group_report(groups, names, dsa, keep, tied),
        "madds": {"dense": int(before), "pruned": int(after), "ratio": after / before},
        "params": {"dense": int(model.count_params()), "pruned": int(pruned.count_params())},
    }
    outputs = save_converted(model, dst, payload)
    path = os.path.join(os.path.dirname(outputs["model.keras"]), "pruned.keras")
    tmp = f"{path}.tmp-{os.getpid()}.keras"
    try:
        pruned.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return {"tensors": len(report.assigned) + len(payload["dsa_buffers"]), "skipped": len(report.skipped),
            "outputs": {**outputs, "pruned.keras": path}}


CONVERTERS = {"pytorch": convert_pytorch}

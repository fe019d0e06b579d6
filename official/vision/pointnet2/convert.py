"""PointMixup / Pointnet2_PyTorch `Pointnet2MSG` state dicts -> Keras weights for the PointNet++ classifiers.

    python -m tools.convert_checkpoint --from=pytorch --model=pointnet2_msg_modelnet40 --src=CKPT.pth.tar --dst=DIR

The repo's trainer saves `{"model_state": state_dict, ...}` (etw_pytorch_utils.checkpoint_state): give
`--checkpoint_key=model_state` (or a bare state dict). The authors released no trained weights (README: commands
only), so this converts checkpoints trained with their code. Key map (strict both ways, assign_strict):
    SA_modules.{s}.mlps.{b}.layer{i}.conv.weight (out, in, 1, 1)       -> sa{s+1}/mlp{b}/conv{i} kernel (in, out)
    SA_modules.{s}.mlps.{b}.layer{i}.normlayer.bn.weight / bias / running_mean / running_var
                                                                      -> sa{s+1}/mlp{b}/bn{i} gamma / beta / moving_*
    FC_layer.{2j}.fc.weight (out, in)                                  -> fc{j+1} kernel (in, out)      (no bias)
    FC_layer.{2j}.bn.bn.weight / bias / running_mean / running_var     -> fc{j+1}_bn
    FC_layer.{2H}.fc.weight / bias                                     -> logits kernel / bias          (H = head depth)
The input channel order of every SA conv is [relative xyz (3), features], Pointnet2's QueryAndGroup / GroupAll order,
so no permutation is needed. `classes` is read from the last FC weight. num_batches_tracked is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from official.core.checkpoint_convert import (
    ConversionReport,
    assign_strict,
    convert_pytorch_checkpoint,
    to_arrays,
    unwrap_state_dict,
)
from official.vision.pointnet2.model import PointNet2Classifier

__all__ = ["CONVERTERS", "convert_pytorch", "load_state_dict", "weight_map"]

BN_FIELDS = (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"), ("running_var", "moving_variance"))


def _conv1x1(w: np.ndarray) -> np.ndarray:
    return np.asarray(w).reshape(w.shape[0], w.shape[1]).T


def _linear(w: np.ndarray) -> np.ndarray:
    return np.asarray(w).T


def weight_map(model: PointNet2Classifier) -> list[tuple[str, Any, Any]]:
    """(official key, Keras variable, layout transform or None) for every weight of `model`."""
    entries = []
    for s, sa in enumerate(model.sa_layers):
        for b, mlp in enumerate(sa.mlps):
            for i, (conv, bn) in enumerate(zip(mlp.convs, mlp.norms, strict=True)):
                prefix = f"SA_modules.{s}.mlps.{b}.layer{i}"
                entries.append((f"{prefix}.conv.weight", conv.kernel, _conv1x1))
                entries += [(f"{prefix}.normlayer.bn.{t}", getattr(bn, k), None) for t, k in BN_FIELDS]
    dense = [layer for layer in model.head_layers if layer.name.startswith("fc") and "_" not in layer.name]
    for j, fc in enumerate(dense):
        bn = model.get_layer(f"{fc.name}_bn")
        entries.append((f"FC_layer.{2 * j}.fc.weight", fc.kernel, _linear))
        entries += [(f"FC_layer.{2 * j}.bn.bn.{t}", getattr(bn, k), None) for t, k in BN_FIELDS]
    last = model.get_layer("logits")
    h = 2 * len(dense)
    return entries + [(f"FC_layer.{h}.fc.weight", last.kernel, _linear), (f"FC_layer.{h}.fc.bias", last.bias, None)]


def load_state_dict(model: PointNet2Classifier, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes a Pointnet2MSG / Pointnet2MSG_manimix state dict (arrays or torch tensors) into `model`."""
    return assign_strict(model, weight_map(model), to_arrays(unwrap_state_dict(state_dict)), {
        "unexpected": ": mixupbias_layer.* (n_strxmani) is not part of the classifier",
    })


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    def infer(state: Mapping[str, Any]) -> dict[str, Any]:
        last = sorted(k for k in state if k.startswith("FC_layer.") and k.endswith(".fc.bias"))
        return {"classes": int(state[last[-1]].shape[0])} if last else {}

    return convert_pytorch_checkpoint(src, dst, model_name, PointNet2Classifier, load_state_dict, infer, allow_pickle,
                                      checkpoint_key, **overrides)


CONVERTERS = {"pytorch": convert_pytorch}

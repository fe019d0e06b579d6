"""The authors' MMIL_Net state dict (models/MMIL_Net.pt of YapengTian/AVVP-ECCV20) -> `HanNet` weights.

    python -m tools.convert_checkpoint --from=pytorch --model=avvp_han --src=MMIL_Net.pt --dst=DIR

Keys (nets/net_audiovisual.py): `fc_{a,v,st,fusion,prob,frame_att,av_att}.{weight,bias}` (Linear: (out, in),
transposed); `hat_encoder.layers.0.{cm_attn,self_attn}.in_proj_weight` (3d, d) = [W_q; W_k; W_v] and
`in_proj_bias` (3d,), `.out_proj.{weight,bias}`; `hat_encoder.layers.0.{linear1,linear2}.{weight,bias}`,
`hat_encoder.layers.0.{norm1,norm2}.{weight,bias}`. Never used in forward, so skipped and listed in
conversion.json: `audio_encoder.*`, `visual_encoder.*`, `cmt_encoder.*`, `hat_encoder.norm{1,2}.*`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from official.core.checkpoint_convert import (
    ConversionError,
    ConversionReport,
    WeightEntry,
    assign_strict,
    convert_pytorch_checkpoint,
    to_arrays,
    unwrap_state_dict,
)
from research.video.avvp.model import HanNet

UNUSED_PREFIXES = ("audio_encoder.", "visual_encoder.", "cmt_encoder.", "hat_encoder.norm1.", "hat_encoder.norm2.")
HAN = "hat_encoder.layers.0"
DENSE = ("fc_a", "fc_v", "fc_st", "fc_fusion", "fc_prob", "fc_frame_att", "fc_av_att")


def _linear(w: np.ndarray) -> np.ndarray:
    return w.T


def _attention(mha, key: str) -> list[WeightEntry]:
    """torch nn.MultiheadAttention (packed in_proj) -> Keras MultiHeadAttention's q/k/v/output denses."""
    heads, key_dim = mha.num_heads, mha.key_dim
    d = heads * key_dim
    entries: list[WeightEntry] = []
    for i, dense in enumerate((mha.query_dense, mha.key_dense, mha.value_dense)):
        rows = slice(i * d, (i + 1) * d)
        entries.append((f"{key}.in_proj_weight", dense.kernel,
                        lambda w, r=rows: w[r].T.reshape(-1, heads, key_dim)))
        entries.append((f"{key}.in_proj_bias", dense.bias, lambda b, r=rows: b[r].reshape(heads, key_dim)))
    out = mha.output_dense
    entries.append((f"{key}.out_proj.weight", out.kernel, lambda w: w.T.reshape(heads, key_dim, -1)))
    entries.append((f"{key}.out_proj.bias", out.bias, None))
    return entries


def weight_map(model: HanNet) -> list[WeightEntry]:
    """(official key, Keras variable, transform) for every weight of `model`."""
    entries: list[WeightEntry] = []
    for name in DENSE:
        layer = model.get_layer(name)
        entries += [(f"{name}.weight", layer.kernel, _linear), (f"{name}.bias", layer.bias, None)]
    han = model.get_layer("han")
    entries += _attention(han.cm_attn, f"{HAN}.cm_attn") + _attention(han.self_attn, f"{HAN}.self_attn")
    for name in ("linear1", "linear2"):
        layer = getattr(han, name)
        entries += [(f"{HAN}.{name}.weight", layer.kernel, _linear), (f"{HAN}.{name}.bias", layer.bias, None)]
    for name in ("norm1", "norm2"):
        layer = getattr(han, name)
        entries += [(f"{HAN}.{name}.weight", layer.gamma, None), (f"{HAN}.{name}.bias", layer.beta, None)]
    return entries


def _assign(model: HanNet, entries: list[WeightEntry], arrays: Mapping[str, np.ndarray]) -> ConversionReport:
    """assign_strict for entries whose key appears several times (in_proj split into q / k / v)."""
    unique = {key for key, _, _ in entries}
    used = {k: v for k, v in arrays.items() if not k.startswith(UNUSED_PREFIXES)}
    unused = sorted(k for k in arrays if k.startswith(UNUSED_PREFIXES))
    # assign_strict checks every key is known and every weight written; it takes one entry per key, so the
    # packed in_proj tensors are split under derived names first
    split, flat = {}, []
    for i, (key, variable, transform) in enumerate(entries):
        name = f"{key}#{i}" if key.endswith("in_proj_weight") or key.endswith("in_proj_bias") else key
        if key in used:
            split[name] = used[key]
        flat.append((name, variable, transform))
    extra = {k: v for k, v in used.items() if k not in unique}
    try:
        report = assign_strict(model, flat, {**split, **extra}, hints={
            "missing": "; an MMIL_Net state dict has fc_a.weight, hat_encoder.layers.0.cm_attn.in_proj_weight, ...",
            "unexpected": "; is this the HAN (MMIL_Net) checkpoint of AVVP-ECCV20?",
        })
    except ConversionError as err:
        raise ConversionError(re.sub(r"#\d+", "", str(err))) from None
    assigned = {k.split("#")[0]: v for k, v in report.assigned.items()}
    return ConversionReport(assigned, sorted(report.skipped + unused))


def load_state_dict(model: HanNet, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official state dict into `model` (strict: every used tensor read, every weight filled)."""
    return _assign(model, weight_map(model), unwrap_state_dict(to_arrays(state_dict)))


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Widths fixed by the checkpoint: classes, d_model, FFN and the three feature widths."""
    arrays = unwrap_state_dict(dict(state_dict))
    shape = {k: tuple(np.shape(v)) for k, v in arrays.items()}
    out: dict[str, Any] = {}
    for key, arg, axis in (("fc_prob.weight", "num_classes", 0), ("fc_a.weight", "d_model", 0),
                           ("fc_a.weight", "audio_dim", 1), ("fc_v.weight", "video_2d_dim", 1),
                           ("fc_st.weight", "video_3d_dim", 1), (f"{HAN}.linear1.weight", "ffn_dim", 0)):
        if key in shape and len(shape[key]) == 2:
            out[arg] = int(shape[key][axis])
    return out


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered `model_name` into folder `dst`."""
    return convert_pytorch_checkpoint(src, dst, model_name, HanNet, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

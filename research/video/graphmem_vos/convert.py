"""The authors' GraphMemVOS checkpoint (carrierlxk/GraphMemVOS `main_runfile_graph_memory.pth.tar`, a dict
{"net": graph_memory().state_dict(), "epoch": ...}) -> `GraphMemVOS` weights.

    python -m tools.convert_checkpoint --from=pytorch --model=graphmem_vos_resnet50 --src=FILE --dst=DIR

Keys (models/graph_memory.py; "net" is read unless --checkpoint_key names another entry; "module." from
nn.DataParallel is stripped):
- `Encoder_{M,Q}.conv1.weight`, `Encoder_M.conv1_{m,o}.weight`, `Encoder_{M,Q}.bn1.*` and torchvision
  ResNet-50's `Encoder_{M,Q}.res{2,3,4}.{i}.{conv1,bn1,conv2,bn2,conv3,bn3}.*`, `.{i}.downsample.{0,1}.*`
  (res2-4 are layer1-3): conv (out, in, kh, kw) -> Keras (kh, kw, in, out); BN weight / bias / running_mean /
  running_var -> gamma / beta / moving_mean / moving_variance.
- `KV_{M,Q}_r4.{Key,Value}.{weight,bias}` -> kv_{m,q}_{key,value}.
- `Memory.conv_fusion.*`, `Memory.ConvGRU_{h,m}.{reset,update,out}_gate.*` (1x1 convs), `Memory.linear_e.weight`
  (Linear) -> the Dense layers of `EpisodicGraphMemory` (kernel (in, out)).
- `Decoder.layer5.{conv,bn_x,conv2d_0..3,bn_0..3,bottleneck}.*` (ASPP), `Decoder.ResMM.conv{1,2}.*`,
  `Decoder.RF{3,2}.{convFS,ResFS.conv{1,2},ResMM.conv{1,2}}.*`, `Decoder.pred2.*`.
Read but not weights (listed in conversion.json): `Encoder_{M,Q}.{mean,std}` buffers, which must equal the
ImageNet constants our Normalization layers hold, and `*.num_batches_tracked`. Written but never used by the
release's forward (also listed): `Memory.conv_fusion`, `Memory.ConvGRU_m`, `Memory.linear_e` (memory.py:
their node update never reaches the readout; `graph_update="paper"` uses them).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from official.core.checkpoint_convert import (
    ConversionError,
    ConversionReport,
    WeightEntry,
    assign_strict,
    check_destination,
    convert_state_dict,
    read_pytorch_checkpoint,
    to_arrays,
    torch_conv,
    unwrap_state_dict,
)
from research.video.graphmem_vos.encoders import IMAGENET_MEAN, IMAGENET_STD
from research.video.graphmem_vos.model import GraphMemVOS

ENCODERS = (("Encoder_M", "encoder_m"), ("Encoder_Q", "encoder_q"))
KEY_VALUE = (("KV_M_r4", "kv_m"), ("KV_Q_r4", "kv_q"))
GRU_GATES = ("reset_gate", "update_gate", "out_gate")
UNUSED_BY_RELEASE = ("Memory.conv_fusion.", "Memory.ConvGRU_m.", "Memory.linear_e.")
CONSTANTS = {"mean": IMAGENET_MEAN, "std": IMAGENET_STD}
_BLOCK = re.compile(r"_layer(\d)_(\d+)_(1|2|3|down)_(conv|bn)$")


def torch_dense(w: np.ndarray) -> np.ndarray:
    """A 1x1 Conv2d weight (out, in, 1, 1) or a Linear weight (out, in) -> Dense kernel (in, out)."""
    if w.ndim == 4:
        if w.shape[2:] != (1, 1):
            raise ConversionError(f"expected a 1x1 conv for a Dense layer, got kernel {w.shape[2:]}")
        w = w[:, :, 0, 0]
    return w.T


def _conv(key: str, layer) -> list[WeightEntry]:
    out = [(f"{key}.weight", layer.kernel, torch_conv)]
    return out + [(f"{key}.bias", layer.bias, None)] if layer.use_bias else out


def _bn(key: str, layer) -> list[WeightEntry]:
    return [(f"{key}.weight", layer.gamma, None), (f"{key}.bias", layer.beta, None),
            (f"{key}.running_mean", layer.moving_mean, None), (f"{key}.running_var", layer.moving_variance, None)]


def _encoder(encoder, theirs: str, ours: str) -> list[WeightEntry]:
    """Stem convs + bn1, then every bottleneck conv / BN: ours `{enc}_layer{s}_{i}_{1|2|3|down}_{conv|bn}`
    -> theirs `{Enc}.res{s+1}.{i}.{conv|bn}{1|2|3}` or `.downsample.{0|1}`."""
    entries = []
    for layer in encoder.layers:
        name = layer.name
        if name in (f"{ours}_conv1", f"{ours}_conv1_m", f"{ours}_conv1_o"):
            entries += _conv(f"{theirs}.{name[len(ours) + 1:]}", layer)
        elif name == f"{ours}_bn1":
            entries += _bn(f"{theirs}.bn1", layer)
        elif (m := _BLOCK.search(name)) and name.startswith(f"{ours}_layer"):
            stage, block, part, kind = m.groups()
            sub = f"downsample.{0 if kind == 'conv' else 1}" if part == "down" else f"{kind}{part}"
            key = f"{theirs}.res{int(stage) + 1}.{block}.{sub}"
            entries += _conv(key, layer) if kind == "conv" else _bn(key, layer)
    return entries


def memory_entries(memory, prefix: str = "Memory.") -> list[WeightEntry]:
    """The authors' `Memory` keys (under `prefix`) -> `EpisodicGraphMemory`'s Dense layers."""
    entries = [(f"{prefix}conv_fusion.weight", memory.conv_fusion.kernel, torch_dense),
               (f"{prefix}conv_fusion.bias", memory.conv_fusion.bias, None),
               (f"{prefix}linear_e.weight", memory.linear_e.kernel, torch_dense)]
    for theirs, gru in (("ConvGRU_h", memory.gru_h), ("ConvGRU_m", memory.gru_m)):
        for gate in GRU_GATES:
            dense = getattr(gru, gate)
            entries += [(f"{prefix}{theirs}.{gate}.weight", dense.kernel, torch_dense),
                        (f"{prefix}{theirs}.{gate}.bias", dense.bias, None)]
    return entries


def _decoder(dec, n_dilations: int) -> list[WeightEntry]:
    convs = {"decoder_aspp_pool": "Decoder.layer5.conv", "decoder_aspp_bottleneck": "Decoder.layer5.bottleneck",
             "decoder_pred": "Decoder.pred2", "decoder_resmm_conv1": "Decoder.ResMM.conv1",
             "decoder_resmm_conv2": "Decoder.ResMM.conv2"}
    bns = {"decoder_aspp_pool_bn": "Decoder.layer5.bn_x"}
    for i in range(n_dilations + 1):  # the 1x1 branch and one per dilation
        convs[f"decoder_aspp_conv{i}"] = f"Decoder.layer5.conv2d_{i}"
        bns[f"decoder_aspp_conv{i}_bn"] = f"Decoder.layer5.bn_{i}"
    for rf in (3, 2):
        convs[f"decoder_rf{rf}_convfs"] = f"Decoder.RF{rf}.convFS"
        for block, theirs in (("resfs", "ResFS"), ("resmm", "ResMM")):
            for j in (1, 2):
                convs[f"decoder_rf{rf}_{block}_conv{j}"] = f"Decoder.RF{rf}.{theirs}.conv{j}"
    entries = []
    for ours, theirs in convs.items():
        entries += _conv(theirs, dec.get_layer(ours))
    for ours, theirs in bns.items():
        entries += _bn(theirs, dec.get_layer(ours))
    return entries


def weight_map(model: GraphMemVOS) -> list[WeightEntry]:
    """(official key, Keras variable, transform) for every weight of `model`."""
    entries: list[WeightEntry] = []
    for theirs, ours in ENCODERS:
        entries += _encoder(getattr(model, ours), theirs, ours)
    for theirs, ours in KEY_VALUE:
        head = getattr(model, ours)
        entries += _conv(f"{theirs}.Key", head.get_layer(f"{ours}_key"))
        entries += _conv(f"{theirs}.Value", head.get_layer(f"{ours}_value"))
    entries += memory_entries(model.memory)
    return entries + _decoder(model.decoder, len(model.dilations))


@dataclasses.dataclass
class GraphMemReport(ConversionReport):
    """ConversionReport plus the buffers that were checked instead of written, and the tensors that were
    written but that the release's forward never reads."""

    constants: dict[str, list[float]]
    unused_by_release: list[str]

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "constants_checked": self.constants,
                "unused_by_release_forward": self.unused_by_release}


def _check_constants(arrays: dict[str, np.ndarray]) -> dict[str, list[float]]:
    """Pops `Encoder_{M,Q}.{mean,std}`; each must equal the ImageNet constant the Normalization layer holds."""
    checked = {}
    for theirs, _ in ENCODERS:
        for buffer, want in CONSTANTS.items():
            key = f"{theirs}.{buffer}"
            if key not in arrays:
                continue
            value = arrays.pop(key)
            if value.size != 3 or not np.allclose(value.reshape(-1), want, atol=1e-6):
                raise ConversionError(f"'{key}' is {value.reshape(-1).tolist()}, the model normalises with {list(want)}")
            checked[key] = value.reshape(-1).tolist()
    return checked


def load_state_dict(model: GraphMemVOS, state_dict: Mapping[str, Any]) -> GraphMemReport:
    """Writes an official state dict into `model` (strict: every tensor read, every weight filled)."""
    arrays = unwrap_state_dict(to_arrays(state_dict))
    constants = _check_constants(arrays)
    report = assign_strict(model, weight_map(model), arrays, hints={
        "missing": "; a graph_memory state dict has Encoder_M.conv1_m.weight, KV_Q_r4.Key.weight, Memory.linear_e.weight, "
                   "Decoder.pred2.weight ...",
        "unexpected": "; graph_memory keeps only conv1, bn1 and layer1-3 (res2-4) of each ResNet-50",
    })
    unused = sorted(k for k in report.assigned if k.startswith(UNUSED_BY_RELEASE))
    return GraphMemReport(report.assigned, sorted(report.skipped + list(constants)), constants, unused)


def load_memory_state_dict(memory, state_dict: Mapping[str, Any]) -> ConversionReport:
    """The authors' `Memory` module alone (its own state_dict, no prefix) -> an `EpisodicGraphMemory`."""
    return assign_strict(memory, memory_entries(memory, prefix=""), to_arrays(state_dict))


def infer_model_kwargs(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Widths and depths that the checkpoint fixes (the ASPP dilations and graph update it does not)."""
    shape = {k: tuple(np.shape(v)) for k, v in unwrap_state_dict(dict(state_dict)).items()}
    out: dict[str, Any] = {}
    if "Encoder_Q.conv1.weight" in shape:
        out["stem_width"] = shape["Encoder_Q.conv1.weight"][0]
    stages = []
    for s in (2, 3, 4):
        blocks = {int(m.group(1)) for k in shape if (m := re.fullmatch(rf"Encoder_Q\.res{s}\.(\d+)\.conv1\.weight", k))}
        if blocks:
            stages.append((max(blocks) + 1, shape[f"Encoder_Q.res{s}.0.conv1.weight"][0]))
    if len(stages) == 3:
        out["stages"] = tuple(stages)
    if "KV_Q_r4.Key.weight" in shape and "KV_Q_r4.Value.weight" in shape:
        out["key_dim"], out["value_dim"] = shape["KV_Q_r4.Key.weight"][0], shape["KV_Q_r4.Value.weight"][0]
    if "Decoder.pred2.weight" in shape:
        out["decoder_dim"] = shape["Decoder.pred2.weight"][1]
    return out


def official_state(checkpoint: Any, checkpoint_key: str = "") -> dict[str, Any]:
    """The tensor dict of a loaded checkpoint: `checkpoint_key`, else "net" (what the release's eval script
    loads), else state_dict / model / the dict itself; "module." stripped."""
    if not isinstance(checkpoint, Mapping):
        raise ConversionError(f"checkpoint is a {type(checkpoint).__name__}, not a dict of tensors")
    if not checkpoint_key and isinstance(checkpoint.get("net"), Mapping):
        checkpoint_key = "net"
    return unwrap_state_dict(checkpoint, checkpoint_key)


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    """Converts the official checkpoint `src` for registered `model_name` into folder `dst`."""
    check_destination(dst)
    checkpoint = read_pytorch_checkpoint(src, allow_pickle)
    try:
        state = official_state(checkpoint, checkpoint_key)
    except ConversionError as err:
        raise ConversionError(f"{src}: {err}") from None
    return convert_state_dict(state, src, dst, model_name, GraphMemVOS, load_state_dict, infer_model_kwargs, **overrides)


# tools/convert_checkpoint.py dispatches `--from=<source>` to these functions.
CONVERTERS = {"pytorch": convert_pytorch}

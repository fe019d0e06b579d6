"""Official ConvONet checkpoints (PyTorch, `src/checkpoints.py`: {"model": state_dict, "optimizer", ...})
-> the Keras ConvONet.

    python -m tools.convert_checkpoint --from=pytorch --model=conv_onet_3plane_shapenet \
        --src=shapenet_3plane.pt --dst=converted/conv_onet_3plane_shapenet

The authors released pretrained models (configs/pointcloud/pretrained/*.yaml, e.g.
.../models/pointcloud/shapenet_3plane.pt). Keys are the module paths of ConvolutionalOccupancyNetwork:
`encoder.fc_pos|blocks.i.{fc_0,fc_1,shortcut}|fc_c`, `encoder.unet.{down_convs.i.conv1|2, up_convs.i.
{upconv,conv1,conv2}, conv_final}`, `encoder.unet3d.{encoders|decoders}.i.basic_module.SingleConv{1,2}.
{groupnorm,conv}`, `encoder.unet3d.final_conv`, `decoder.fc_p|fc_c.i|blocks.i.{fc_0,fc_1}|fc_out`.
Linear weights are transposed; Conv2d (out, in, kh, kw) -> (kh, kw, in, out); ConvTranspose2d
(in, out, kh, kw) -> (kh, kw, out, in); Conv3d (out, in, kd, kh, kw) -> (kd, kh, kw, in, out) (our maps
are indexed like the authors' tensors: height = second coordinate, width = first). Widths, depths and
the plane/grid choice are read from the checkpoint; the resolution comes from the registered variant.
"""

from __future__ import annotations

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
    torch_conv,
)
from research.three_d.conv_onet.model import ConvONet, ResnetBlockFC


def torch_conv_transpose(w: np.ndarray) -> np.ndarray:
    """ConvTranspose2d weight (in, out, kh, kw) -> Keras Conv2DTranspose kernel (kh, kw, out, in)."""
    return np.transpose(w, (2, 3, 1, 0))


def torch_conv3d(w: np.ndarray) -> np.ndarray:
    """Conv3d weight (out, in, kd, kh, kw) -> Keras Conv3D kernel (kd, kh, kw, in, out)."""
    return np.transpose(w, (2, 3, 4, 1, 0))


def _linear(key: str, layer) -> list[WeightEntry]:
    out: list[WeightEntry] = [(f"{key}.weight", layer.kernel, np.transpose)]
    if layer.use_bias:
        out.append((f"{key}.bias", layer.bias, None))
    return out


def _conv(key: str, layer, transform) -> list[WeightEntry]:
    out: list[WeightEntry] = [(f"{key}.weight", layer.kernel, transform)]
    if layer.use_bias:
        out.append((f"{key}.bias", layer.bias, None))
    return out


def _block(key: str, block: ResnetBlockFC) -> list[WeightEntry]:
    out = _linear(f"{key}.fc_0", block.fc_0) + _linear(f"{key}.fc_1", block.fc_1)
    return out + (_linear(f"{key}.shortcut", block.shortcut) if block.shortcut is not None else [])


def weight_map(model: ConvONet) -> list[WeightEntry]:
    """(official key, Keras variable, transform) for every weight of `model`."""
    enc, dec = model.encoder, model.decoder
    entries = _linear("encoder.fc_pos", enc.fc_pos) + _linear("encoder.fc_c", enc.fc_c)
    for i, block in enumerate(enc.blocks):
        entries += _block(f"encoder.blocks.{i}", block)
    if enc.unet is not None:
        for i, (c1, c2) in enumerate(enc.unet.down):
            entries += _conv(f"encoder.unet.down_convs.{i}.conv1", c1, torch_conv)
            entries += _conv(f"encoder.unet.down_convs.{i}.conv2", c2, torch_conv)
        for i, (up, c1, c2) in enumerate(enc.unet.up):
            entries += _conv(f"encoder.unet.up_convs.{i}.upconv", up, torch_conv_transpose)
            entries += _conv(f"encoder.unet.up_convs.{i}.conv1", c1, torch_conv)
            entries += _conv(f"encoder.unet.up_convs.{i}.conv2", c2, torch_conv)
        entries += _conv("encoder.unet.conv_final", enc.unet.final, torch_conv)
    if enc.unet3d is not None:
        for part, blocks in (("encoders", enc.unet3d.encoders), ("decoders", enc.unet3d.decoders)):
            for i, pair in enumerate(blocks):
                for j, (norm, conv, _) in enumerate(pair, start=1):
                    key = f"encoder.unet3d.{part}.{i}.basic_module.SingleConv{j}"
                    entries += [(f"{key}.groupnorm.weight", norm.gamma, None), (f"{key}.groupnorm.bias", norm.beta, None)]
                    entries += _conv(f"{key}.conv", conv, torch_conv3d)
        entries += _conv("encoder.unet3d.final_conv", enc.unet3d.final, torch_conv3d)
    entries += _linear("decoder.fc_p", dec.fc_p) + _linear("decoder.fc_out", dec.fc_out)
    for i, (fc, block) in enumerate(zip(dec.fc_c, dec.blocks, strict=True)):
        entries += _linear(f"decoder.fc_c.{i}", fc) + _block(f"decoder.blocks.{i}", block)
    return entries


def _count(state: Mapping[str, Any], prefix: str) -> int:
    indices = {k[len(prefix):].split(".")[0] for k in state if k.startswith(prefix)}
    return len([i for i in indices if i.isdigit()])


def infer_model_kwargs(state: Mapping[str, Any]) -> dict[str, Any]:
    """Widths and depths the checkpoint fixes (the plane / grid resolution is the variant's)."""
    if "encoder.fc_c.weight" not in state or "decoder.fc_p.weight" not in state:
        raise ConversionError("checkpoint has no 'encoder.fc_c.weight' / 'decoder.fc_p.weight' (not a ConvONet "
                              "pointnet_local_pool + simple_local model)")
    c_dim, hidden = (int(d) for d in np.shape(state["encoder.fc_c.weight"]))
    kwargs: dict[str, Any] = dict(c_dim=c_dim, hidden_dim=hidden, n_blocks=_count(state, "encoder.blocks."),
                                  decoder_hidden=int(np.shape(state["decoder.fc_p.weight"])[0]))
    if "encoder.unet.conv_final.weight" in state:
        kwargs["unet_depth"] = _count(state, "encoder.unet.down_convs.")
        kwargs["unet_filters"] = int(np.shape(state["encoder.unet.down_convs.0.conv1.weight"])[0])
    if "encoder.unet3d.final_conv.weight" in state:
        kwargs["unet3d_levels"] = _count(state, "encoder.unet3d.encoders.")
        kwargs["unet3d_f_maps"] = int(np.shape(state["encoder.unet3d.encoders.0.basic_module.SingleConv2.conv.weight"])[0])
    return kwargs


def load_state_dict(model: ConvONet, state_dict: Mapping[str, Any]) -> ConversionReport:
    """Writes an official state dict into `model` (strict both ways)."""
    hints = {"missing": "; is --model the checkpoint's variant (3-plane vs grid)?",
             "unexpected": "; a plane checkpoint for a grid variant, or the reverse?"}
    return assign_strict(model, weight_map(model), to_arrays(state_dict), hints)


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides: Any) -> dict[str, Any]:
    return convert_pytorch_checkpoint(src, dst, model_name, ConvONet, load_state_dict, infer_model_kwargs,
                                      allow_pickle, checkpoint_key, **overrides)


CONVERTERS = {"pytorch": convert_pytorch}

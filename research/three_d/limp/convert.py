"""PyTorch `PointNetVAE` state dict (the authors' key names) -> `Limp` Keras weights.

Keys (models/model.py + models/SimplePointNet.py): `enc.ptnet.transformers.0.conv_layers.{i}.{0: Conv1d, 1: BN}`,
`enc.ptnet.transformers.0.fc_layers.{0.0: Linear 512->256, 1: Linear 256->9}`, `enc.ptnet.conv_layers.{i}.{0,1}`,
`enc.ptnet.fc_layers.{i}.{0: Linear, 1: BN}` for the hidden FCs and `enc.ptnet.fc_layers.{last}` (Linear to
2 x latent), `dec.fc1.{0, 2, 4}` (Linear). Conv1d(k=1) kernels (out, in, 1) and Linear (out, in) are transposed.
"""

from __future__ import annotations

import numpy as np

from official.core.errors import UserError


class ConversionError(UserError, KeyError):
    """A key missing from, or a shape not matching, the state dict; the message names the key."""

    def __str__(self) -> str:
        return str(self.args[0])


def _get(state: dict, key: str) -> np.ndarray:
    if key not in state:
        raise ConversionError(f"state dict has no key '{key}'")
    value = state[key]
    return np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)


def _dense(layer, state: dict, prefix: str) -> None:
    kernel = _get(state, prefix + ".weight")
    kernel = kernel[..., 0] if kernel.ndim == 3 else kernel  # Conv1d (out, in, 1)
    if tuple(kernel.T.shape) != tuple(layer.kernel.shape):
        raise ConversionError(f"'{prefix}.weight': shape {kernel.shape} does not fit {layer.name} {layer.kernel.shape}")
    layer.set_weights([kernel.T, _get(state, prefix + ".bias")])


def _bn(layer, state: dict, prefix: str) -> None:
    layer.set_weights([_get(state, prefix + s) for s in (".weight", ".bias", ".running_mean", ".running_var")])


def load_state_dict(model, state: dict) -> None:
    """Assigns every weight of `model` (a `Limp`) from the authors' state dict; raises ConversionError."""
    enc, dec = model.encoder, model.decoder
    tnet = "enc.ptnet.transformers.0"
    num_tnet_conv = len([layer for layer in enc.layers if layer.name.startswith("tnet") and layer.name.endswith("_conv")])
    for i in range(num_tnet_conv):
        _dense(enc.get_layer(f"tnet{i}_conv"), state, f"{tnet}.conv_layers.{i}.0")
        _bn(enc.get_layer(f"tnet{i}_bn"), state, f"{tnet}.conv_layers.{i}.1")
    num_tnet_fc = len([layer for layer in enc.layers if layer.name.startswith("tnet_fc")])
    for i in range(num_tnet_fc):
        _dense(enc.get_layer(f"tnet_fc{i}"), state, f"{tnet}.fc_layers.{i}.0")
    _dense(enc.get_layer("tnet_out"), state, f"{tnet}.fc_layers.{num_tnet_fc}")
    num_conv = len([layer for layer in enc.layers if layer.name.startswith("conv") and layer.name.endswith("_conv")])
    for i in range(num_conv):
        _dense(enc.get_layer(f"conv{i}_conv"), state, f"enc.ptnet.conv_layers.{i}.0")
        _bn(enc.get_layer(f"conv{i}_bn"), state, f"enc.ptnet.conv_layers.{i}.1")
    num_fc = len([layer for layer in enc.layers if layer.name.startswith("fc") and layer.name.endswith("_bn")])
    for i in range(num_fc):
        _dense(enc.get_layer(f"fc{i}"), state, f"enc.ptnet.fc_layers.{i}.0")
        _bn(enc.get_layer(f"fc{i}_bn"), state, f"enc.ptnet.fc_layers.{i}.1")
    _dense(enc.get_layer("latent"), state, f"enc.ptnet.fc_layers.{num_fc}")
    num_dec = len([layer for layer in dec.layers if layer.name.endswith("_lrelu")])
    for i in range(num_dec):
        _dense(dec.get_layer(f"fc{i}"), state, f"dec.fc1.{2 * i}")
    _dense(dec.get_layer("vertices_flat"), state, f"dec.fc1.{2 * num_dec}")

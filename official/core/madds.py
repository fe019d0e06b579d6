"""Multiply-accumulate (MAdds) and parameter counts of any Keras model, the zoo's one FLOPs counter.

Counts the MACs of convolutions (Conv1D/2D/3D, grouped included), depthwise, separable and transposed
convolutions and Dense layers, from the shapes each layer really sees: one forward pass of a zero batch
of one example records every leaf layer call (nested layers and blocks with their own `call` included,
which a functional graph alone does not show). Biases, BatchNorm, activations, pooling and additions are
not counted, the convention of the MobileNet papers (MobileNeXt-1.0: 311,342,592).
Keras only; runs under every backend.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

L = keras.layers


@dataclasses.dataclass
class LayerMAdds:
    """One counted layer call: its path, class, input/output shapes (no batch) and multiply-adds."""

    name: str
    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    madds: int


@dataclasses.dataclass
class MAddsReport:
    """The counted calls of one model at one input size, with totals."""

    rows: list[LayerMAdds]
    trainable_params: int
    total_params: int
    input_shape: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(r.madds for r in self.rows)

    def by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.kind] = out.get(r.kind, 0) + r.madds
        return out

    def table(self, per_layer: bool = False) -> str:
        """A printable summary (per-kind totals; every layer with per_layer=True)."""
        lines = []
        if per_layer:
            lines.append(f"{'layer':40s} {'kind':18s} {'output':>20s} {'MAdds':>14s}")
            for r in self.rows:
                lines.append(f"{r.name[:40]:40s} {r.kind:18s} {str(r.output_shape):>20s} {r.madds:>14,d}")
            lines.append("")
        lines.append(f"{'kind':18s} {'calls':>6s} {'MAdds':>16s}")
        for kind, madds in self.by_kind().items():
            calls = sum(r.kind == kind for r in self.rows)
            lines.append(f"{kind:18s} {calls:>6d} {madds:>16,d}")
        lines.append(f"{'total':18s} {len(self.rows):>6d} {self.total:>16,d}  ({self.total / 1e6:.1f}M)")
        lines.append(f"trainable params {self.trainable_params:,d}; all params {self.total_params:,d}")
        return "\n".join(lines)


def _spatial(shape: tuple[int, ...], data_format: str) -> tuple[tuple[int, ...], int]:
    """(spatial dims, channels) of a shape without its batch dim."""
    if data_format == "channels_first":
        return tuple(shape[1:]), shape[0]
    return tuple(shape[:-1]), shape[-1]


def layer_madds(
    layer: keras.layers.Layer, in_shape: tuple[int, ...], out_shape: tuple[int, ...]
) -> int | None:
    """MACs of one call of `layer` for one example (shapes without batch); None for uncounted kinds."""
    own = getattr(layer, "call_madds", None)  # zoo layers that are convs of their own (ProxyBNN's binary convs)
    if own is not None:
        return own(in_shape, out_shape)
    if isinstance(layer, L.Dense):
        return math.prod(out_shape[:-1]) * in_shape[-1] * out_shape[-1]
    data_format = getattr(layer, "data_format", "channels_last")
    if isinstance(layer, (L.Conv1D, L.Conv2D, L.Conv3D)):
        out_sp, c_out = _spatial(out_shape, data_format)
        _, c_in = _spatial(in_shape, data_format)
        return math.prod(out_sp) * c_out * math.prod(layer.kernel_size) * (c_in // layer.groups)
    if isinstance(layer, (L.DepthwiseConv1D, L.DepthwiseConv2D)):
        out_sp, c_out = _spatial(out_shape, data_format)
        return math.prod(out_sp) * c_out * math.prod(layer.kernel_size)
    if isinstance(layer, (L.SeparableConv1D, L.SeparableConv2D)):
        out_sp, c_out = _spatial(out_shape, data_format)
        _, c_in = _spatial(in_shape, data_format)
        mid = c_in * layer.depth_multiplier
        return math.prod(out_sp) * mid * (math.prod(layer.kernel_size) + c_out)
    if isinstance(layer, (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)):
        # every input pixel scatters a k x k x C_out patch: the MACs follow the input size
        in_sp, c_in = _spatial(in_shape, data_format)
        _, c_out = _spatial(out_shape, data_format)
        return math.prod(in_sp) * c_in * math.prod(layer.kernel_size) * c_out
    return None


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in keras.ops.shape(x)[1:])


@contextlib.contextmanager
def _record_calls(calls: list[tuple[Any, tuple, tuple]]) -> Iterator[None]:
    """Records (layer, input shape, output shape) of every layer call while active.

    Patches `Layer.__call__` for the duration: Keras has no forward hooks, and a functional graph does
    not show the layers that a custom block calls inside its own `call`.
    """
    original = keras.layers.Layer.__call__

    def recording_call(self, *args, **kwargs):
        outputs = original(self, *args, **kwargs)
        first = args[0] if args else next(iter(kwargs.values()), None)
        if keras.ops.is_tensor(first) and keras.ops.is_tensor(outputs):
            calls.append((self, _shape(first), _shape(outputs)))
        return outputs

    keras.layers.Layer.__call__ = recording_call
    try:
        yield
    finally:
        keras.layers.Layer.__call__ = original


def _param_counts(model: keras.Model) -> tuple[int, int]:
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    return trainable, sum(int(np.prod(v.shape)) for v in model.weights)


def count_madds(model: keras.Model, input_shape: tuple[int, ...] | None = None) -> MAddsReport:
    """Counts the MACs of one example through `model` (a single-input model).

    `input_shape` (without batch) is needed when the model's input has unknown dimensions.
    """
    if len(model.inputs) != 1 and input_shape is None:
        raise ValueError(
            f"{model.name}: count_madds handles single-input models ({len(model.inputs)} inputs)"
        )
    shape = tuple(input_shape) if input_shape is not None else tuple(model.inputs[0].shape[1:])
    if any(d is None for d in shape):
        raise ValueError(f"{model.name}: input shape {shape} has unknown dims; pass input_shape=(H, W, C)")
    calls: list[tuple[Any, tuple, tuple]] = []
    with _record_calls(calls):
        model(keras.ops.zeros((1, *shape)), training=False)
    rows = []
    for layer, in_shape, out_shape in calls:
        madds = layer_madds(layer, in_shape, out_shape)
        if madds is not None:
            rows.append(
                LayerMAdds(
                    getattr(layer, "path", None) or layer.name,
                    type(layer).__name__,
                    in_shape,
                    out_shape,
                    madds,
                )
            )
    trainable, total = _param_counts(model)
    return MAddsReport(rows, trainable, total, shape)

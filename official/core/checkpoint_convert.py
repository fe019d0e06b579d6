"""Plumbing shared by the official-checkpoint converters (each model's `convert.py`): reading a PyTorch
file weights-only, unwrapping trainer dicts and DataParallel's "module." prefix, the strict assignment
of a (key, variable, transform) map, the one-line error, the report of which source tensor went to
which Keras weight, and writing the outputs without leaving anything half-written."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from official.core.errors import UserError


class ConversionError(UserError, ValueError):
    """A checkpoint does not fit the model; the message names the key."""


@dataclasses.dataclass
class ConversionReport:
    """Which source tensor went to which Keras weight."""

    assigned: dict[str, str]  # source key -> Keras variable path
    skipped: list[str]  # source keys without a Keras counterpart (num_batches_tracked)

    def to_json(self) -> dict[str, Any]:
        return {"assigned": self.assigned, "skipped": self.skipped, "tensors": len(self.assigned)}


def unwrap_state_dict(checkpoint: Mapping[str, Any], key: str = "") -> dict[str, Any]:
    """The tensor dict of a checkpoint: `key` (or state_dict / model when present), 'module.' stripped."""
    state = checkpoint
    if key:
        if key not in checkpoint:
            raise ConversionError(
                f"checkpoint has no entry '{key}' (entries: {', '.join(map(str, checkpoint))})"
            )
        state = checkpoint[key]
    else:
        for candidate in ("state_dict", "model"):
            if isinstance(checkpoint.get(candidate), Mapping):
                state = checkpoint[candidate]
                break
    out = {}
    for name, value in state.items():
        name = name[len("module.") :] if name.startswith("module.") else name
        out[name] = value
    return out


def _stub_pickle_module() -> Any:
    """A pickle module whose unpickler replaces classes it cannot import with inert stubs.

    Checkpoints that pickle whole modules of the authors' code (Side-Tuning's `fcn4-cifar.pth` names
    a `feature_selector` module) load without that code; only their tensors are used.
    """
    import pickle
    import types

    class Stub:
        def __init__(self, *args, **kwargs):
            pass

        def __setstate__(self, state):
            self.__dict__["_state"] = state

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            try:
                return super().find_class(module, name)
            except (ImportError, AttributeError):
                return type(name, (Stub,), {"__module__": module})

    module = types.ModuleType("stub_pickle")
    module.Unpickler = Unpickler
    module.load = pickle.load
    module.__name__ = "stub_pickle"
    return module


def read_pytorch_checkpoint(path: str, allow_pickle: bool = False) -> dict[str, Any]:
    """Reads a .pth / .pth.tar file with torch (weights-only unpickling unless `allow_pickle`)."""
    try:
        import torch
    except ImportError as err:
        raise ImportError(
            "reading PyTorch checkpoints needs torch: pip install 'eccv20-zoo[convert]'"
        ) from err
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: checkpoint does not exist")
    try:
        if allow_pickle:
            return torch.load(path, map_location="cpu", weights_only=False, pickle_module=_stub_pickle_module())
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        if allow_pickle:
            raise ConversionError(f"{path}: torch.load failed: {err}") from err
        raise ConversionError(
            f"{path}: not loadable weights-only ({type(err).__name__}); timm-style checkpoints that also pickle "
            "their training args need --allow_pickle (only for files you trust)"
        ) from err


OUTPUT_FILES = ("model.weights.h5", "model.keras", "conversion.json")
WeightEntry = tuple[str, Any, Callable[[np.ndarray], np.ndarray] | None]  # (source key, Keras variable, transform)


def torch_conv(w: np.ndarray) -> np.ndarray:
    """PyTorch conv weight (out, in, kh, kw) -> Keras kernel (kh, kw, in, out)."""
    return np.transpose(w, (2, 3, 1, 0))


def torch_shape(keras_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The PyTorch shape a Keras conv kernel (kh, kw, in, out) comes from: (out, in, kh, kw)."""
    return tuple(keras_shape[i] for i in (3, 2, 0, 1)) if len(keras_shape) == 4 else tuple(keras_shape)


def to_arrays(state_dict: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """A state dict of torch tensors or arrays as numpy arrays."""
    return {k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v) for k, v in state_dict.items()}


def assign_strict(
    model: Any, entries: Sequence[WeightEntry], arrays: Mapping[str, np.ndarray], hints: Mapping[str, str] | None = None
) -> ConversionReport:
    """Writes `arrays` into `model` through `entries`; strict in both directions.

    A missing key, an unexpected key (other than num_batches_tracked), a shape that does not fit or a
    model weight no entry fills is a one-line ConversionError naming it (`hints` adds a model-specific
    sentence under "missing" / "unexpected" / "unwritten"); nothing is written unless all checks pass.
    """
    hints = hints or {}
    skipped = sorted(k for k in arrays if k.endswith(".num_batches_tracked"))
    expected = {key for key, _, _ in entries}
    missing = [key for key, _, _ in entries if key not in arrays]
    if missing:
        raise ConversionError(
            f"checkpoint has no '{missing[0]}' ({len(missing)} of {len(entries)} tensors missing{hints.get('missing', '')})"
        )
    unexpected = [k for k in arrays if k not in expected and k not in skipped]
    if unexpected:
        raise ConversionError(
            f"checkpoint tensor '{unexpected[0]}' has no place in the model ({len(unexpected)} unexpected "
            f"tensors{hints.get('unexpected', '')})"
        )
    values = []
    for key, variable, transform in entries:
        value = arrays[key]
        converted = transform(value) if transform is not None else value
        if tuple(converted.shape) != tuple(variable.shape):
            raise ConversionError(
                f"'{key}' has shape {tuple(value.shape)}, the model expects "
                f"{torch_shape(tuple(variable.shape))} (Keras {variable.path} {tuple(variable.shape)})"
            )
        values.append(converted)
    written = {id(variable) for _, variable, _ in entries}
    unwritten = [v.path for v in model.weights if id(v) not in written]
    if unwritten:
        raise ConversionError(
            f"{len(unwritten)} model weights have no official tensor, first {unwritten[0]}{hints.get('unwritten', '')}"
        )
    assigned = {}
    for (key, variable, _), value in zip(entries, values, strict=True):
        variable.assign(value.astype(variable.dtype))
        assigned[key] = variable.path
    return ConversionReport(assigned, skipped)


def save_converted(model: Any, dst: str, payload: dict[str, Any]) -> dict[str, str]:
    """Writes OUTPUT_FILES into a temp folder next to `dst`, then moves them in (nothing half-written).

    A new `dst` is one rename of the whole folder; into an existing folder each file is one rename, made
    only after all three are complete.
    """
    dst = os.path.abspath(dst)
    parent = os.path.dirname(dst)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(dst)}.tmp-", dir=parent)
    try:
        model.save_weights(os.path.join(tmp, "model.weights.h5"))
        model.save(os.path.join(tmp, "model.keras"))
        with open(os.path.join(tmp, "conversion.json"), "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=1, default=str)
        if not os.path.exists(dst):
            os.rename(tmp, dst)
        else:
            for name in OUTPUT_FILES:
                os.replace(os.path.join(tmp, name), os.path.join(dst, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {name: os.path.join(dst, name) for name in OUTPUT_FILES}


def check_destination(dst: str) -> None:
    if os.path.exists(dst) and not os.path.isdir(dst):
        raise ConversionError(f"--dst={dst} exists and is not a folder")


def convert_pytorch_checkpoint(
    src: str,
    dst: str,
    model_name: str,
    model_cls: type,
    load_state_dict: Callable[[Any, Mapping[str, Any]], ConversionReport],
    infer_model_kwargs: Callable[[Mapping[str, Any]], dict[str, Any]],
    allow_pickle: bool = False,
    checkpoint_key: str = "",
    **overrides: Any,
) -> dict[str, Any]:
    """The body of a model's `convert_pytorch`: read `src`, build registered `model_name` (a `model_cls`)
    with the arguments the checkpoint fixes, fill it strictly and write DST/model.weights.h5,
    DST/model.keras and DST/conversion.json (official key -> Keras variable path, skipped keys, config)."""
    check_destination(dst)
    state = unwrap_state_dict(read_pytorch_checkpoint(src, allow_pickle), checkpoint_key)
    return convert_state_dict(state, src, dst, model_name, model_cls, load_state_dict, infer_model_kwargs, **overrides)


def convert_state_dict(
    state: Mapping[str, Any],
    src: str,
    dst: str,
    model_name: str,
    model_cls: type,
    load_state_dict: Callable[[Any, Mapping[str, Any]], ConversionReport],
    infer_model_kwargs: Callable[[Mapping[str, Any]], dict[str, Any]],
    **overrides: Any,
) -> dict[str, Any]:
    """`convert_pytorch_checkpoint` after reading: for converters that assemble `state` from several
    files (RPL: the net and its criterion); `src` names the source in errors and conversion.json."""
    from official.core import registry

    model = registry.create_model(model_name, **{**infer_model_kwargs(state), **overrides})
    if not isinstance(model, model_cls):
        raise ConversionError(f"{model_name} is not a {model_cls.__name__} model")
    try:
        report = load_state_dict(model, state)
    except ConversionError as err:
        raise ConversionError(f"{src} ({model_name}): {err}") from None
    payload = {"source": os.path.abspath(src), "model": model_name, "config": model.get_config(), **report.to_json()}
    outputs = save_converted(model, dst, payload)
    return {"tensors": len(report.assigned), "skipped": len(report.skipped), "outputs": outputs}

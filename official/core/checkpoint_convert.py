"""Plumbing shared by the official-checkpoint converters (each model's `convert.py`): reading a PyTorch
file weights-only, unwrapping trainer dicts and DataParallel's "module." prefix, the one-line error, and
the report of which source tensor went to which Keras weight."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

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
        return torch.load(path, map_location="cpu", weights_only=not allow_pickle)
    except Exception as err:
        if allow_pickle:
            raise ConversionError(f"{path}: torch.load failed: {err}") from err
        raise ConversionError(
            f"{path}: not loadable weights-only ({type(err).__name__}); timm-style checkpoints that also pickle "
            "their training args need --allow_pickle (only for files you trust)"
        ) from err

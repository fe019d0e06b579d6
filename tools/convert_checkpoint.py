"""Converts an official checkpoint of another framework into Keras weights for a registered model.

    python -m tools.convert_checkpoint --from=pytorch --model=mobilenext_100 --src=model.pth --dst=DIR

Dispatch: the model's package (where its class is defined) provides `convert.py` with a
`CONVERTERS = {"pytorch": fn, ...}` table, `fn(src, dst, model_name, allow_pickle=..., checkpoint_key=...,
**model_overrides) -> {"tensors", "skipped", "outputs"}`; adding a converter for another model needs no
change here.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from absl import app, flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the CLI flags (only when run as a program, so importing this module never clashes)."""
    flags.DEFINE_string("from", "pytorch", "Framework of the checkpoint (a key of the model's CONVERTERS).")
    flags.DEFINE_string(
        "model", None, "Registered model name the checkpoint belongs to, e.g. mobilenext_100."
    )
    flags.DEFINE_string("src", None, "Checkpoint file to read (e.g. the official .pth / .pth.tar).")
    flags.DEFINE_string("dst", None, "Output folder for model.weights.h5, model.keras and conversion.json.")
    flags.DEFINE_bool(
        "allow_pickle",
        False,
        "Let torch unpickle arbitrary objects (timm checkpoints with args); trusted files only.",
    )
    flags.DEFINE_string(
        "checkpoint_key",
        "",
        "Entry of a checkpoint dict holding the weights (default: state_dict or model if present).",
    )
    flags.DEFINE_string(
        "model_args",
        "",
        "Model constructor overrides as key=value pairs, e.g. identity_divisor=2 (partial identity).",
    )
    flags.mark_flags_as_required(["model", "src", "dst"])


def converter_module(model_name: str):
    """The `convert` module next to the code of `model_name`, or a UsageError naming what is missing."""
    from official.core import registry

    builder = registry.get_model_builder(model_name)
    target = getattr(builder, "model_cls", builder)
    package = target.__module__.rsplit(".", 1)[0]
    try:
        return importlib.import_module(f"{package}.convert")
    except ModuleNotFoundError as err:
        if err.name != f"{package}.convert":
            raise
        raise app.UsageError(
            f"--model={model_name}: no converter ({package}/convert.py does not exist)"
        ) from err


def convert(source: str, model: str, src: str, dst: str, model_args: str = "", **options: Any) -> dict:
    """Runs the converter of `model` for checkpoints of framework `source`; returns its summary."""
    from official.core.config import parse_overrides
    from official.core.errors import PathNotFoundError

    if not os.path.isfile(src):
        raise PathNotFoundError(f"{src}: checkpoint file does not exist")
    converters = getattr(converter_module(model), "CONVERTERS", {})
    if source not in converters:
        raise app.UsageError(
            f"--from={source}: {model} converts from {', '.join(sorted(converters)) or 'nothing'}"
        )
    return converters[source](src, dst, model, **options, **parse_overrides(model_args))


def main(argv: list[str]) -> None:
    del argv
    result = convert(
        FLAGS["from"].value,
        FLAGS.model,
        FLAGS.src,
        FLAGS.dst,
        FLAGS.model_args,
        allow_pickle=FLAGS.allow_pickle,
        checkpoint_key=FLAGS.checkpoint_key,
    )
    print(
        f"converted {result['tensors']} tensors ({result['skipped']} skipped) of {FLAGS.src} for {FLAGS.model}"
    )
    for name, path in result["outputs"].items():
        print(f"  {name}: {path}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

"""Converts an official checkpoint of another framework into Keras weights for a registered model.

    python -m tools.convert_checkpoint --from=pytorch --model=mobilenext_100 --src=model.pth --dst=DIR

Dispatch: the model's package (where its class is defined) provides `convert.py` with a
`CONVERTERS = {"pytorch": fn, ...}` table, `fn(src, dst, model_name, allow_pickle=..., checkpoint_key=...,
**overrides) -> dict`; adding a converter for another model needs no change here.
"""

from __future__ import annotations

import importlib
import sys

from absl import app, flags

SOURCE = flags.DEFINE_string(
    "from", "pytorch", "Framework of the checkpoint (a key of the model's CONVERTERS)."
)
MODEL = flags.DEFINE_string(
    "model", None, "Registered model name the checkpoint belongs to, e.g. mobilenext_100."
)
SRC = flags.DEFINE_string("src", None, "Checkpoint file to read (e.g. the official .pth / .pth.tar).")
DST = flags.DEFINE_string("dst", None, "Output folder for model.weights.h5, model.keras and conversion.json.")
ALLOW_PICKLE = flags.DEFINE_bool(
    "allow_pickle",
    False,
    "Let torch unpickle arbitrary objects (timm checkpoints with args); trusted files only.",
)
CHECKPOINT_KEY = flags.DEFINE_string(
    "checkpoint_key",
    "",
    "Entry of a checkpoint dict holding the weights (default: state_dict or model if present).",
)
MODEL_ARGS = flags.DEFINE_string(
    "model_args",
    "",
    "Model constructor overrides as key=value pairs, e.g. identity_divisor=2 (partial identity).",
)


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


def main(argv: list[str]) -> int:
    del argv
    for flag in (MODEL, SRC, DST):
        if not flag.value:
            raise app.UsageError(f"--{flag.name} is required")
    module = converter_module(MODEL.value)
    converters = getattr(module, "CONVERTERS", {})
    if SOURCE.value not in converters:
        raise app.UsageError(
            f"--from={SOURCE.value}: {MODEL.value} converts from {', '.join(sorted(converters)) or 'nothing'}"
        )
    from official.core.config import parse_overrides

    overrides = parse_overrides(MODEL_ARGS.value)
    result = converters[SOURCE.value](
        SRC.value,
        DST.value,
        MODEL.value,
        allow_pickle=ALLOW_PICKLE.value,
        checkpoint_key=CHECKPOINT_KEY.value,
        **overrides,
    )
    print(
        f"converted {result['tensors']} tensors ({result['skipped']} skipped) of {SRC.value} for {MODEL.value}"
    )
    for name, path in result["outputs"].items():
        print(f"  {name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(app.run(main))

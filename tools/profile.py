"""Counts the multiply-adds (MAdds) and parameters of a registered model at a given input size.

    python -m tools.profile --model mobilenext_100 --image_size 224
    python -m tools.profile --model mobilenext_100 --image_size 224 --per_layer --json /tmp/madds.json
    python -m tools.profile --model rsn_18 --input_size 256x192

Convolutions (grouped, depthwise, separable, transposed) and Dense layers are counted from the shapes
each layer sees in one forward pass (official/core/madds.py); BN, activations and additions are not.
"""

from __future__ import annotations

import json
import os

from absl import app, flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the CLI flags (only when run as a program, so importing this module never clashes)."""
    flags.DEFINE_string("model", None, "Registered model name, e.g. mobilenext_100 (`python -m tools.list`).")
    flags.DEFINE_string("keras_file", None, "A saved .keras network instead of --model (e.g. tools.prune's pruned.keras), at its own input size.")
    flags.DEFINE_integer("image_size", 224, "Square input side in pixels.")
    flags.DEFINE_string("input_size", "", "Non-square input as HEIGHTxWIDTH (e.g. 256x192 for RSN); overrides --image_size.")
    flags.DEFINE_integer("channels", 3, "Input channels.")
    flags.DEFINE_integer("classes", 0, "Classifier outputs; 0 keeps the model's default (1000 for ImageNet).")
    flags.DEFINE_bool("per_layer", False, "Print every counted layer, not only the totals per kind.")
    flags.DEFINE_string("json", "", "Also write the counts (total, per kind, per layer) to this JSON file.")
    flags.register_validator(
        "model", lambda _: bool(FLAGS.model) != bool(FLAGS.keras_file), "give exactly one of --model, --keras_file"
    )


def build(name: str, image_size: int | tuple[int, int], channels: int = 3, classes: int = 0):
    """The model at the requested input size (through its `input_shape` argument when it has one);
    `image_size` is a square side or (height, width)."""
    from official.core import registry

    args = {arg for arg, _, _ in registry.builder_parameters(name)}
    overrides = {}
    if "input_shape" in args:
        height, width = image_size if isinstance(image_size, tuple) else (image_size, image_size)
        overrides["input_shape"] = (height, width, channels)
    if classes:
        if "classes" not in args:
            raise app.UsageError(f"--classes: model {name} has no `classes` argument")
        overrides["classes"] = classes
    return registry.create_model(name, **overrides)


def write_json(report, path: str, model: str) -> None:
    """The counts as JSON, written under a temp name and renamed when complete."""
    payload = {
        "model": model,
        "input_shape": list(report.input_shape),
        "madds": report.total,
        "madds_by_kind": report.by_kind(),
        "trainable_params": report.trainable_params,
        "total_params": report.total_params,
        "layers": [
            {"name": r.name, "kind": r.kind, "output_shape": list(r.output_shape), "madds": r.madds}
            for r in report.rows
        ],
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=1)
    os.replace(tmp, path)


def main(argv: list[str]) -> None:
    del argv
    from official.core.madds import count_madds

    channels = FLAGS.channels
    height = width = FLAGS.image_size
    if FLAGS.input_size:
        try:
            height, width = (int(v) for v in FLAGS.input_size.lower().split("x"))
        except ValueError:
            raise app.UsageError(f"--input_size={FLAGS.input_size}: expected HEIGHTxWIDTH, e.g. 256x192") from None
    if FLAGS.keras_file:
        from official.core.model_files import load_keras_file

        model = load_keras_file(FLAGS.keras_file, "--keras_file")
        height, width, channels = (int(d) for d in model.inputs[0].shape[1:])
    else:
        model = build(FLAGS.model, (height, width), channels, FLAGS.classes)
    name = FLAGS.model or FLAGS.keras_file
    report = count_madds(model, input_shape=(height, width, channels))
    print(f"{name} at {height}x{width}x{channels}")
    print(report.table(per_layer=FLAGS.per_layer))
    if FLAGS.json:
        write_json(report, FLAGS.json, name)
        print(f"wrote {FLAGS.json}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

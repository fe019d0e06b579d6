"""Export a trained experiment: SavedModel for TF Serving (+ warmup), TFLite and ONNX, each verified.

    python -m tools.export --experiment=mobilenetv2_035_digits --model_dir=runs/digits \
        --export_dir=exports [--formats=saved_model,tflite,onnx] [--quantize=int8]

Every artifact is re-run on real inputs and compared with the Keras model (max |difference|, or top-1
agreement for int8); a mismatch fails the export and leaves no half-written artifact behind.
"""

from __future__ import annotations

import sys

from absl import app, flags

FLAGS = flags.FLAGS
def define_flags() -> None:
    """Registers the flags; called only when the tool runs, so tools can be imported together."""
    flags.DEFINE_string("experiment", None, "Registered experiment name.")
    flags.DEFINE_string("model_dir", None, "Training folder whose newest checkpoint is exported.")
    flags.DEFINE_string("export_dir", "exports", "Root folder of the exported artifacts.")
    flags.DEFINE_string("name", None, "Model name in TF Serving and in file names (default: the experiment name).")
    flags.DEFINE_multi_string("config_file", [], "YAML overrides, as in tools.train.")
    flags.DEFINE_string("params_override", "", "Comma-separated overrides, as in tools.train.")
    flags.DEFINE_list("formats", None, "Any of saved_model, tflite, onnx (default: export.formats of the config).")
    flags.DEFINE_enum("quantize", None, ["none", "float16", "dynamic", "int8"], "TFLite quantisation (default: export.quantize).")
    flags.DEFINE_integer("version", None, "TF Serving version folder (default: one above the highest present).")
    flags.DEFINE_integer("image_size", None, "Serving input size (default: the eval image size).")
    flags.mark_flags_as_required(["experiment", "model_dir"])


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print(f"unexpected arguments: {' '.join(argv[1:])}", file=sys.stderr)
        return 2
    from official.core import config as config_lib
    from official.core import export, trainer
    from official.core.registry import RegistryError

    try:
        cfg = config_lib.resolve(FLAGS.experiment, FLAGS.config_file, FLAGS.params_override)
        for flag, key in (("formats", "export.formats"), ("quantize", "export.quantize"), ("version", "export.version"),
                          ("image_size", "export.image_size")):
            if getattr(FLAGS, flag) is not None:
                config_lib.set_value(cfg, key, getattr(FLAGS, flag))
        model, task, step = trainer.restore_for_inference(cfg, FLAGS.model_dir)
    except (config_lib.ConfigError, RegistryError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    name = FLAGS.name or FLAGS.experiment
    size = cfg.export.image_size or cfg.eval_data.image_size
    print(f"exporting {name} (checkpoint step {step}) as {', '.join(cfg.export.formats)} at {size}x{size}")
    try:
        done = export.export_all(model, task, FLAGS.export_dir, name, cfg.export, size)
    except export.ExportError as err:
        print(f"export FAILED verification, nothing written: {err}", file=sys.stderr)
        return 1
    for fmt, (path, report) in done.items():
        ops = report.pop("ops", None)
        checks = ", ".join(f"{k}={v:.3g}" for k, v in report.items())
        print(f"  {fmt:<12} {path}\n               verified: {checks}")
        if ops:
            print(f"               ops: {' '.join(ops)}")
    return 0


if __name__ == "__main__":
    define_flags()
    app.run(main)

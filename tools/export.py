"""Export a trained experiment: SavedModel for TF Serving (+ warmup), TFLite and ONNX, each verified.

    python -m tools.export --experiment=mobilenetv2_035_digits --model_dir=runs/digits \
        --export_dir=exports [--formats=saved_model,tflite,onnx] [--quantize=int8]
    python -m tools.export --experiment=dsa_resnet20_digits --keras_file=pruned/pruned.keras  # a saved network

Every artifact is re-run on real inputs and compared with the Keras model (max |difference|, or top-1
agreement for int8); a mismatch fails the export and leaves no half-written artifact behind.
"""

from __future__ import annotations

import sys

from absl import app, flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the flags; called only when the tool runs, so tools can be imported together."""
    flags.DEFINE_string("experiment", None, "Registered experiment name.")
    flags.DEFINE_string("model_dir", None, "Training folder whose newest checkpoint is exported.")
    flags.DEFINE_string(
        "keras_file", None,
        "A saved .keras network (e.g. tools.prune's pruned.keras) exported with its own weights, or with "
        "--model_dir's checkpoint when both are given (sets model.keras_file).",
    )
    flags.DEFINE_string("export_dir", "exports", "Root folder of the exported artifacts.")
    flags.DEFINE_string("name", None, "Model name in TF Serving and in file names (default: the experiment name).")
    flags.DEFINE_multi_string("config_file", [], "YAML overrides, as in tools.train.")
    flags.DEFINE_string("params_override", "", "Comma-separated overrides, as in tools.train.")
    flags.DEFINE_list("formats", None, "Any of saved_model, tflite, onnx (default: export.formats of the config).")
    flags.DEFINE_enum("quantize", None, ["none", "float16", "dynamic", "int8"], "TFLite quantisation (default: export.quantize).")
    flags.DEFINE_integer("version", None, "TF Serving version folder (default: one above the highest present).")
    flags.DEFINE_integer("image_size", None, "Serving input size (default: the eval image size).")
    _cli.define_data_dir_flag()
    flags.mark_flags_as_required(["experiment"])


def serving_inputs(task, model, size: int) -> str:
    """The serving_default inputs as `name (shape) dtype`: point, clip and multi-input models are not images."""
    import tensorflow as tf

    _, specs = task.serving_signatures(model, size)["serving_default"]
    described = []
    for spec in tf.nest.flatten(specs):
        shape = "x".join("?" if d is None else str(d) for d in spec.shape)
        described.append(f"{spec.name or 'input'} [{shape}] {spec.dtype.name}")
    return ", ".join(described)


def main(argv: list[str]) -> int:
    del argv
    from official.core import config as config_lib
    from official.core import export, trainer

    cfg = config_lib.resolve(FLAGS.experiment, FLAGS.config_file, FLAGS.params_override, FLAGS.data_dir)
    if FLAGS.keras_file:
        cfg.model.keras_file = FLAGS.keras_file
    if not (FLAGS.model_dir or cfg.model.keras_file):
        raise app.UsageError("give --model_dir (a training folder) or --keras_file (a saved network)")
    for flag, key in (("formats", "export.formats"), ("quantize", "export.quantize"), ("version", "export.version"),
                      ("image_size", "export.image_size")):
        if getattr(FLAGS, flag) is not None:
            config_lib.set_value(cfg, key, getattr(FLAGS, flag))
    name = FLAGS.name or FLAGS.experiment
    size = cfg.export.image_size or cfg.eval_data.image_size
    # quiet_stderr: the TFLite converter's and interpreter's info lines, TF's oneDNN notice.
    with _cli.naming_config_keys(cfg), _cli.quiet_stderr():
        model, task, step = trainer.restore_for_inference(cfg, FLAGS.model_dir)
        origin = f"checkpoint step {step}" if FLAGS.model_dir else cfg.model.keras_file
        print(f"exporting {name} ({origin}) as {', '.join(cfg.export.formats)}; serving_default takes "
              f"{serving_inputs(task, model, size)}")
        try:
            done = export.export_all(model, task, FLAGS.export_dir, name, cfg.export, size)
        except export.ExportError as err:
            print(f"error: export failed, nothing written: {' '.join(str(err).split())}", file=sys.stderr)
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
    _cli.run(main)

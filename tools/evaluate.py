"""Evaluate a checkpoint, a SavedModel or a TFLite file on an experiment's eval data -> metrics JSON.

    python -m tools.evaluate --experiment=E --model_dir=runs/x             # newest checkpoint
    python -m tools.evaluate --experiment=E --saved_model=exports/E/1      # TF Serving artifact
    python -m tools.evaluate --experiment=E --tflite=exports/tflite/E_int8.tflite
    [--json=OUT.json] [--tide]  (--tide: detection tasks add the TIDE error breakdown)

Only load SavedModels you trust: a SavedModel is a program.
"""

from __future__ import annotations

import json
import os
import time

from absl import app, flags

from tools import _cli

FLAGS = flags.FLAGS
SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")


def define_flags() -> None:
    """Registers the flags; called only when the tool runs, so tools can be imported together."""
    flags.DEFINE_string("experiment", None, "Registered experiment name (gives the task and eval data).")
    flags.DEFINE_string("model_dir", None, "Training folder: evaluates its newest checkpoint.")
    flags.DEFINE_string("saved_model", None, "A SavedModel version folder written by tools.export.")
    flags.DEFINE_string("tflite", None, "A .tflite file written by tools.export.")
    flags.DEFINE_multi_string("config_file", [], "YAML overrides, as in tools.train.")
    flags.DEFINE_string("params_override", "", "Comma-separated overrides, as in tools.train.")
    flags.DEFINE_string("json", None, "Metrics JSON path (default: MODEL_DIR/eval_results.json with --model_dir).")
    flags.DEFINE_bool("tide", False, "Detection tasks: add the TIDE error breakdown to the metrics and TensorBoard.")
    flags.mark_flags_as_required(["experiment"])


def flatten(metrics: dict, prefix: str = "") -> dict[str, float]:
    """{"tide": {"main": {"Cls": 1}}} -> {"tide/main/Cls": 1.0} (numbers only)."""
    out: dict[str, float] = {}
    for k, v in metrics.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}/"))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"{prefix}{k}"] = float(v)
    return out


def _write_tensorboard(model_dir: str, step: int, metrics: dict) -> None:
    import tensorflow as tf

    writer = tf.summary.create_file_writer(os.path.join(model_dir, "validation"))
    with writer.as_default(step=step):
        for k, v in flatten(metrics).items():
            tf.summary.scalar(k, v)
    writer.flush()


def main(argv: list[str]) -> int:
    del argv
    sources = [s for s in (FLAGS.model_dir, FLAGS.saved_model, FLAGS.tflite) if s]
    if len(sources) != 1:
        raise app.UsageError("give exactly one of --model_dir, --saved_model, --tflite")
    from official.core import config as config_lib
    from official.core import trainer
    from official.core.errors import BadValueError, PathNotFoundError
    from official.core.task import build_task

    cfg = config_lib.resolve(FLAGS.experiment, FLAGS.config_file, FLAGS.params_override)
    start = time.time()
    step = 0
    with _cli.naming_config_keys(cfg):
        if FLAGS.model_dir:
            model, task, step = trainer.restore_for_inference(cfg, FLAGS.model_dir)
            dataset = task.build_inputs(cfg.eval_data, False, cfg.trainer.global_batch_size)
            metrics = task.evaluate(model, dataset, tide=FLAGS.tide)
            source = f"checkpoint step {step} of {FLAGS.model_dir}"
        else:
            task = build_task(cfg)
            if FLAGS.saved_model:
                import tensorflow as tf

                if not os.path.isdir(FLAGS.saved_model):
                    raise PathNotFoundError(f"{FLAGS.saved_model}: no such SavedModel folder")
                if not any(os.path.isfile(os.path.join(FLAGS.saved_model, f)) for f in SAVED_MODEL_FILES):
                    raise PathNotFoundError(f"{FLAGS.saved_model}: no saved_model.pb inside (not a SavedModel folder)")
                predict = task.saved_model_predict_fn(tf.saved_model.load(FLAGS.saved_model))
                source = f"SavedModel {FLAGS.saved_model}"
            else:
                from official.core.export_tflite import run_tflite

                if not os.path.isfile(FLAGS.tflite):
                    raise PathNotFoundError(f"{FLAGS.tflite}: no such TFLite file")
                with open(FLAGS.tflite, "rb") as f:
                    data = f.read()
                if data[4:8] != b"TFL3":  # the flatbuffer file identifier of every .tflite model
                    raise BadValueError(f"{FLAGS.tflite}: not a TFLite model (no TFL3 file identifier)")

                def predict(x):
                    return run_tflite(data, x)

                source = f"TFLite {FLAGS.tflite}"
            dataset = task.build_inputs(cfg.eval_data, False, cfg.trainer.global_batch_size)
            with _cli.quiet_stderr():  # TFLite's "Created TensorFlow Lite XNNPACK delegate" line
                metrics = task.evaluate_predict_fn(predict, dataset)
    print(f"evaluated {source} on {cfg.eval_data.path} in {time.time() - start:.1f} s")
    for k, v in sorted(flatten(metrics).items()):
        print(f"  {k:<28} {v:.4f}")
    out = FLAGS.json or (os.path.join(FLAGS.model_dir, "eval_results.json") if FLAGS.model_dir else None)
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        tmp = f"{out}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"source": source, "step": step, **metrics}, f, indent=2, sort_keys=True)
        os.replace(tmp, out)
        print(f"metrics written to {out}")
    if FLAGS.model_dir:
        _write_tensorboard(FLAGS.model_dir, step, metrics)
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

"""Evaluate a checkpoint, a SavedModel or a TFLite file on an experiment's eval data -> metrics JSON.

    python -m tools.evaluate --experiment=E --model_dir=runs/x             # newest checkpoint
    python -m tools.evaluate --experiment=E --saved_model=exports/E/1      # TF Serving artifact
    python -m tools.evaluate --experiment=E --tflite=exports/tflite/E_int8.tflite
    python -m tools.evaluate --experiment=E --keras_file=pruned/pruned.keras  # a saved network (tools.prune)
    [--data_dir=DATA] [--json=OUT.json] [--predictions_out=PRED.json] [--tide]

--tide (detection tasks) adds the TIDE error breakdown to the metrics and writes its plot beside the
metrics JSON; --predictions_out writes the predictions (detection: a COCO results JSON, the input of
tools.tide and tools.coco_eval). A SavedModel is scored through its serving_default signature, the
graph TF Serving runs. With --model_dir the metrics go to MODEL_DIR/evaluate/step_<N>.json unless
--json says otherwise (the trainer's own eval_results.json is left alone).

Only load SavedModels you trust: a SavedModel is a program.
"""

from __future__ import annotations

import os
import time

from absl import app, flags

from tools import _cli

FLAGS = flags.FLAGS
SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
AREA_KEYS = ("APs", "APm", "APl", "ARs", "ARm", "ARl")  # COCO reports -1 where no object has that size


def define_flags() -> None:
    """Registers the flags; called only when the tool runs, so tools can be imported together."""
    flags.DEFINE_string("experiment", None, "Registered experiment name (gives the task and eval data).")
    flags.DEFINE_string("model_dir", None, "Training folder: evaluates its newest checkpoint.")
    flags.DEFINE_string("saved_model", None, "A SavedModel version folder written by tools.export.")
    flags.DEFINE_string("tflite", None, "A .tflite file written by tools.export.")
    flags.DEFINE_string("keras_file", None, "A saved .keras network, e.g. tools.prune's pruned.keras (sets model.keras_file).")
    flags.DEFINE_multi_string("config_file", [], "YAML overrides, as in tools.train.")
    flags.DEFINE_string("params_override", "", "Comma-separated overrides, as in tools.train.")
    flags.DEFINE_string("json", None, "Metrics JSON path (default with --model_dir: MODEL_DIR/evaluate/step_<N>.json).")
    flags.DEFINE_string(
        "predictions_out", None,
        "Write the predictions here (detection: COCO results JSON; classification: index, label, prediction, "
        "probability per example), via a temp name.",
    )
    flags.DEFINE_bool(
        "tide", False,
        "Detection tasks: add the TIDE error breakdown to the metrics (and TensorBoard with --model_dir) and "
        "write its plot as <metrics JSON>_tide.png.",
    )
    _cli.define_data_dir_flag()
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


def _load_tflite(path: str):
    """The bytes of a .tflite file, checked to be one (file named in the error otherwise)."""
    from official.core.errors import BadValueError, PathNotFoundError

    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: no such TFLite file")
    with open(path, "rb") as f:
        data = f.read()
    if data[4:8] != b"TFL3":  # the flatbuffer file identifier of every .tflite model
        raise BadValueError(f"{path}: not a TFLite model (no TFL3 file identifier)")
    return data


def _load_saved_model(path: str):
    import tensorflow as tf

    from official.core.errors import PathNotFoundError

    if not os.path.isdir(path):
        raise PathNotFoundError(f"{path}: no such SavedModel folder")
    if not any(os.path.isfile(os.path.join(path, f)) for f in SAVED_MODEL_FILES):
        raise PathNotFoundError(f"{path}: no saved_model.pb inside (not a SavedModel folder)")
    return tf.saved_model.load(path)


def _print_metrics(metrics: dict) -> None:
    """Metrics one per line; COCO's -1 (no object of that size in the ground truth) said in words."""
    absent = []
    for k, v in sorted(flatten(metrics).items()):
        if v == -1.0 and k in AREA_KEYS:
            absent.append(k)
            print(f"  {k:<28} -   (no object of this size in the ground truth)")
        else:
            print(f"  {k:<28} {v:.4f}")
    if absent:
        print(f"  ({', '.join(absent)} are -1 in the JSON: COCO's value when no ground-truth object has that area "
              "range; small < 32^2 px, medium < 96^2 px, large above)")


def main(argv: list[str]) -> int:
    del argv
    sources = [s for s in (FLAGS.model_dir, FLAGS.saved_model, FLAGS.tflite, FLAGS.keras_file) if s]
    if len(sources) != 1:
        raise app.UsageError("give exactly one of --model_dir, --saved_model, --tflite, --keras_file")
    from official.core import config as config_lib
    from official.core import trainer
    from official.core.file_io import write_json
    from official.core.task import build_task

    cfg = config_lib.resolve(FLAGS.experiment, FLAGS.config_file, FLAGS.params_override, FLAGS.data_dir)
    if FLAGS.keras_file:
        cfg.model.keras_file = FLAGS.keras_file
    start = time.time()
    step = 0
    batch = cfg.trainer.global_batch_size
    kwargs = {"tide": FLAGS.tide, "predictions_out": FLAGS.predictions_out}
    # quiet_stderr: TF's and TFLite's native info lines (XNNPACK delegate, oneDNN notices) are not for users.
    with _cli.naming_config_keys(cfg), _cli.quiet_stderr():
        build_task(cfg).check_tide(FLAGS.tide)  # before any model is loaded
        if FLAGS.model_dir or FLAGS.keras_file:
            model, task, step = trainer.restore_for_inference(cfg, FLAGS.model_dir)
            metrics = task.evaluate(model, task.build_inputs(cfg.eval_data, False, batch), **kwargs)
            source = f"checkpoint step {step} of {FLAGS.model_dir}" if FLAGS.model_dir else f"Keras file {FLAGS.keras_file}"
        elif FLAGS.saved_model:
            task = build_task(cfg)
            metrics = task.evaluate_saved_model(_load_saved_model(FLAGS.saved_model), batch, **kwargs)
            source = f"SavedModel {FLAGS.saved_model} (serving_default)"
        else:
            from official.core.export_tflite import run_tflite

            task = build_task(cfg)
            data = _load_tflite(FLAGS.tflite)
            dataset = task.build_inputs(cfg.eval_data, False, batch)
            metrics = task.evaluate_predict_fn(lambda x: run_tflite(data, x), dataset, **kwargs)
            source = f"TFLite {FLAGS.tflite}"
    print(f"evaluated {source} on {cfg.eval_data.path} in {time.time() - start:.1f} s")
    _print_metrics(metrics)
    out = FLAGS.json or (os.path.join(FLAGS.model_dir, "evaluate", f"step_{step}.json") if FLAGS.model_dir else None)
    if out:
        write_json({"source": source, "step": step, **metrics}, out, indent=2, sort_keys=True)
        print(f"metrics written to {out}")
    if FLAGS.predictions_out:
        print(f"predictions written to {FLAGS.predictions_out}")
    if FLAGS.tide and "tide" in metrics:
        from official.evaluation.tide import write_tide_plot

        plot = f"{os.path.splitext(out)[0]}_tide.png" if out else "tide.png"
        write_tide_plot(metrics["tide"], plot, title=os.path.basename(os.path.splitext(plot)[0]))
        print(f"TIDE plot written to {plot}")
    if FLAGS.model_dir:
        _write_tensorboard(FLAGS.model_dir, step, metrics)
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

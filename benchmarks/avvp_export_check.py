"""HAN's exported artifacts score what Keras scores (spec check 8; the TFLite half moved out of CI for the
45 s test budget): the SavedModel (serving_default + parse) and the packed-input TFLite body of a trained
avvp_tiny_llp_synth run are written by the zoo exporter (which verifies each against Keras), then evaluated
on the run's eval split; every F1 must equal the checkpoint's.

    python -m tools.make_avvp_features --out=data/llp_synth
    python -m tools.train --experiment=avvp_tiny_llp_synth --model_dir=runs/avvp_tiny_llp_synth --data_dir=data
    python benchmarks/avvp_export_check.py --model_dir=runs/avvp_tiny_llp_synth --data_dir=data
        [--export_dir=/tmp/avvp_export_check] [--out=benchmarks/results/avvp_export_check.json]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.common import write_json_atomically  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="avvp_tiny_llp_synth", help="Registered AVVP experiment.")
    parser.add_argument("--model_dir", required=True, help="Training folder whose newest checkpoint is exported.")
    parser.add_argument("--data_dir", default="data", help="Root of the experiment's data paths.")
    parser.add_argument("--export_dir", default="", help="Where the artifacts go (default: a temp folder).")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "avvp_export_check.json"),
                        help="Result JSON (written via a temp name).")
    args = parser.parse_args()
    import tensorflow as tf

    from official.core import config as config_lib
    from official.core import export, trainer
    from official.core.export_tflite import run_tflite

    cfg = config_lib.resolve(args.experiment, data_dir=args.data_dir)
    model, task, step = trainer.restore_for_inference(cfg, args.model_dir)
    batch = cfg.trainer.global_batch_size
    keras_f1 = task.evaluate(model, task.build_inputs(cfg.eval_data, False, batch))
    export_dir = args.export_dir or tempfile.mkdtemp(prefix="avvp_export_check-")
    sm_path, sm_report = export.export_saved_model(model, task, export_dir, args.experiment, cfg.export, 0)
    tfl_path, tfl_report = export.export_tflite(model, task, export_dir, args.experiment, cfg.export, 0, "none")
    saved_f1 = task.evaluate_saved_model(tf.saved_model.load(sm_path), batch)
    with open(tfl_path, "rb") as f:
        data = f.read()
    tflite_f1 = task.evaluate_predict_fn(lambda x: run_tflite(data, x), task.build_inputs(cfg.eval_data, False, batch))
    worst = {name: max(abs(f1[k] - keras_f1[k]) for k in keras_f1)
             for name, f1 in (("saved_model", saved_f1), ("tflite", tflite_f1))}
    out = {"command": " ".join(["python benchmarks/avvp_export_check.py", *sys.argv[1:]]), "experiment": args.experiment,
           "step": step, "keras_f1": keras_f1, "saved_model_verify_max_abs_diff": sm_report,
           "tflite_verify": {k: v for k, v in tfl_report.items() if k != "ops"}, "tflite_ops": tfl_report.get("ops"),
           "max_f1_difference_percent": worst, "passed": all(v <= 1e-6 for v in worst.values())}
    write_json_atomically(out, args.out)
    print(worst, "passed" if out["passed"] else "FAILED")
    if not out["passed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

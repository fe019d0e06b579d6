"""The CPN card's walkthrough as a user runs it (issue 24), from a folder outside the checkout with
--data_dir, on the trained tiny-CPN fixture: evaluate the checkpoint, export, evaluate the SavedModel
(through serving_default) and the TFLite body, each with a predictions file and a TIDE breakdown and
plot, then tools.tide and tools.coco_eval on a predictions file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(REPO, "tests", "fixtures", "cpn_trained")
EXPERIMENT = "cpn_dla34tiny_shapes"
ENV = dict(os.environ, PYTHONPATH=REPO)
ENV.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user's shell: the tools hide TF's start-up lines themselves


def _run(cwd, *args, timeout=600) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args[0]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def _clean_stderr(proc) -> None:
    """Nothing for the user but real warnings: no TF/TFLite info lines, no oneDNN notice."""
    noise = ("E0000", "I0000", "W0000", "renamed", "oneDNN", "XNNPACK", "Traceback")
    bad = [ln for ln in proc.stderr.splitlines() if any(n in ln for n in noise)]
    assert not bad, bad[:5]


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    """Runs the walkthrough once; returns the folder, the processes and the files they wrote."""
    import tensorflow as tf

    from official.core import config as config_lib
    from official.core.task import build_task

    home = tmp_path_factory.mktemp("user")
    model_dir = str(home / "runs" / "cpn_shapes")
    cfg = config_lib.resolve(EXPERIMENT, [], "", FIXTURE)
    model = build_task(cfg).build_model()
    model.load_weights(os.path.join(FIXTURE, "cpn_dla34tiny_shapes.weights.h5"))
    tf.train.CheckpointManager(tf.train.Checkpoint(model=model), os.path.join(model_dir, "checkpoints"), 1).save(1000)
    common = [f"--experiment={EXPERIMENT}", f"--data_dir={FIXTURE}", "--tide"]
    procs = {
        "checkpoint": _run(home, "tools.evaluate", *common, f"--model_dir={model_dir}", "--predictions_out=pred/ckpt.json"),
        "export": _run(home, "tools.export", f"--experiment={EXPERIMENT}", f"--data_dir={FIXTURE}",
                       f"--model_dir={model_dir}", "--export_dir=exports", "--version=1"),
    }
    procs["saved_model"] = _run(home, "tools.evaluate", *common, f"--saved_model=exports/{EXPERIMENT}/1",
                                "--json=eval/saved_model.json", "--predictions_out=pred/saved_model.json")
    procs["tflite"] = _run(home, "tools.evaluate", *common, f"--tflite=exports/tflite/{EXPERIMENT}_none.tflite",
                           "--json=eval/tflite.json", "--predictions_out=pred/tflite.json")
    gt = os.path.join(FIXTURE, "shapes", "annotations", "instances_val.json")
    procs["tide"] = _run(home, "tools.tide", f"--gt={gt}", "--pred=pred/ckpt.json", "--json=eval/tide_cli.json",
                         "--plot=eval/tide_cli.png")
    procs["coco_eval"] = _run(home, "tools.coco_eval", f"--gt={gt}", "--pred=pred/saved_model.json",
                              "--json=eval/coco_eval.json")
    return home, model_dir, procs


def _load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@pytest.mark.slow
def test_three_artifacts_give_the_same_metrics_predictions_and_tide(walk):
    home, model_dir, procs = walk
    metrics = {
        "checkpoint": _load(os.path.join(model_dir, "evaluate", "step_1000.json")),
        "saved_model": _load(home / "eval" / "saved_model.json"),
        "tflite": _load(home / "eval" / "tflite.json"),
    }
    assert "serving_default" in metrics["saved_model"]["source"]
    preds = {k: _load(home / "pred" / f"{k}.json") for k in ("ckpt", "saved_model", "tflite")}
    for name, m in metrics.items():
        assert m["AP50"] > 0.6, (name, m)  # the fixture's trained weights were restored / exported
        assert m["AP"] == pytest.approx(metrics["checkpoint"]["AP"], abs=1e-4), name
        assert m["tide"]["ap50"] == pytest.approx(metrics["checkpoint"]["tide"]["ap50"], abs=1e-2), name
        assert set(m["tide"]["main"]) == {"Cls", "Loc", "Both", "Dupe", "Bkg", "Miss"}
    plots = [model_dir + "/evaluate/step_1000_tide.png", home / "eval" / "saved_model_tide.png", home / "eval" / "tflite_tide.png"]
    for plot in plots:
        assert os.path.getsize(plot) > 10_000, plot
    ref = preds["ckpt"]
    for name in ("saved_model", "tflite"):
        assert len(preds[name]) == len(ref) > 50, name
        np.testing.assert_allclose([p["bbox"] for p in preds[name]], [p["bbox"] for p in ref], atol=1e-3, err_msg=name)
        np.testing.assert_allclose([p["score"] for p in preds[name]], [p["score"] for p in ref], atol=1e-4, err_msg=name)
    # tools.tide and tools.coco_eval on the predictions files agree with tools.evaluate
    assert _load(home / "eval" / "tide_cli.json")["ap50"] == pytest.approx(metrics["checkpoint"]["tide"]["ap50"], abs=1e-6)
    assert _load(home / "eval" / "coco_eval.json")["AP"] == pytest.approx(metrics["saved_model"]["AP"], abs=1e-9)


@pytest.mark.slow
def test_outputs_a_user_sees(walk):
    home, model_dir, procs = walk
    assert not os.path.exists(os.path.join(model_dir, "eval_results.json"))  # the trainer's file is not tools.evaluate's
    for proc in procs.values():
        _clean_stderr(proc)
    out = procs["checkpoint"].stdout
    assert "no object of this size" in out and "-1.0000" not in out  # every shapes object is small: said in words
    assert "predictions written to pred/ckpt.json" in out and "TIDE plot written to" in out
    assert "nan" not in procs["export"].stdout and "top1_agreement" not in procs["export"].stdout
    assert procs["coco_eval"].stdout.count("Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all") == 1
    assert "no ground-truth object in that area range" in procs["coco_eval"].stdout

"""`tools.evaluate --tide` on a tiny CPN over the shapes set: TIDE in the metrics JSON and TensorBoard,
and `DetectionTask.evaluate(tide=True)` with `steps` cutting the ground truth to the images seen."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core.task import build_task

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAIN_ERRORS = {"Cls", "Loc", "Both", "Dupe", "Bkg", "Miss"}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> str:
    from tools.make_shapes import write_shapes

    out = str(tmp_path_factory.mktemp("shapes") / "shapes")
    write_shapes(out, 4, 6, size=128, seed=0)
    return out


def overrides(shapes: str) -> str:
    return ",".join(
        [
            f"train_data.path={shapes}/train",
            f"train_data.annotations={shapes}/annotations/instances_train.json",
            f"eval_data.path={shapes}/val",
            f"eval_data.annotations={shapes}/annotations/instances_val.json",
            "trainer.global_batch_size=4",
        ]
    )


@pytest.fixture(scope="module")
def task_and_model(shapes):
    cfg = config_lib.resolve("cpn_dla34tiny_shapes", [], overrides(shapes))
    task = build_task(cfg)
    return cfg, task, task.build_model()


def test_partial_pass_cuts_ground_truth(task_and_model, shapes):
    cfg, task, model = task_and_model
    dataset = task.build_inputs(cfg.eval_data, False, 4)
    metrics = task.evaluate(model, dataset, steps=1, tide=True)
    assert metrics["images"] == 4.0
    tide = metrics["tide"]
    assert set(tide["main"]) == MAIN_ERRORS
    assert {"FalsePos", "FalseNeg"} <= set(tide["special"])
    with open(f"{shapes}/annotations/instances_val.json", encoding="utf-8") as f:
        gt = json.load(f)
    first = {img["id"] for img in gt["images"][:4]}  # the eval reader keeps the file order
    objects = sum(1 for a in gt["annotations"] if a["image_id"] in first and not a["iscrowd"])
    everything = sum(1 for a in gt["annotations"] if not a["iscrowd"])
    assert objects < everything
    assert tide["counts"]["GroundTruth"] == objects


@pytest.mark.slow
def test_cli_writes_tide_to_json_and_tensorboard(task_and_model, shapes, tmp_path):
    cfg, task, model = task_and_model
    model_dir = str(tmp_path / "run")
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), os.path.join(model_dir, "checkpoints"), 1)
    manager.save(checkpoint_number=0)
    out = str(tmp_path / "metrics.json")
    cmd = [sys.executable, "-m", "tools.evaluate", "--experiment=cpn_dla34tiny_shapes", f"--model_dir={model_dir}",
           f"--params_override={overrides(shapes)}", f"--json={out}", "--tide"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out, encoding="utf-8") as f:
        metrics = json.load(f)
    assert metrics["images"] == 6.0 and 0.0 <= metrics["AP"] <= 1.0
    assert set(metrics["tide"]["main"]) == MAIN_ERRORS
    events = glob.glob(os.path.join(model_dir, "validation", "events.out.tfevents.*"))
    tags = {v.tag for e in events for rec in tf.compat.v1.train.summary_iterator(e) for v in rec.summary.value}
    assert {f"tide/main/{k}" for k in MAIN_ERRORS} <= tags and "AP" in tags

"""A short NDN run through tools.train's run_experiment with XLA (METHOD_CONTRACT items 4, 5, 7, 9), then
tools.export's SavedModel round trip and tools.evaluate's SavedModel path on the trained network.

One module-scoped run: tools.make_layouts writes 60 synthetic pages in the Magazine XML format;
`ndn_tiny_magazine_synth` trains STEPS (60) steps with jit_compile=True (measured: constraint accuracy 0.40 untrained -> 0.74). Bars: every loss term falls and the
trained model satisfies clearly more of the given relations than the same network untrained.
The full figures are the model card's small run."""

from __future__ import annotations

import csv
import os

import keras
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import export, trainer
from official.core.task import build_task
from official.core.trainer import run_experiment
from tools.make_layouts import write

STEPS, LOOP = 60, 20


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ndn")
    data = str(root / "pages")
    write(data, 60, seed=0)
    overrides = (f"train_data.path={data},eval_data.path={data},eval_data.split=train,"
                 f"trainer.train_steps={STEPS},trainer.steps_per_loop={LOOP},trainer.steps_per_epoch={LOOP},"
                 "runtime.jit_compile=true")
    cfg = config_lib.resolve("ndn_tiny_magazine_synth", params_override=overrides)
    task = build_task(cfg)
    keras.utils.set_random_seed(0)
    untrained = task.evaluate(task.build_model(), None)
    results, model = run_experiment(cfg, str(root / "run"), mode="train_and_eval", return_model=True)
    return cfg, untrained, results, model, str(root / "run")


def test_xla_short_run_learns_relations_and_boxes(run):
    cfg, untrained, results, model, model_dir = run
    assert results["step"] == STEPS and model.jit_compile
    with open(os.path.join(model_dir, "summary.csv")) as f:
        loops = [{k: float(v) for k, v in row.items() if v not in ("NA", "")} for row in csv.DictReader(f)]
    first, last = loops[0], loops[-1]
    for key in ("relation_loc_ce", "relation_size_ce", "layout_l1"):
        assert last[key] < 0.8 * first[key], (key, loops)
    ev = results["eval"]
    print("untrained", untrained, "trained", ev)
    assert ev["constraint_accuracy"] > untrained["constraint_accuracy"] + 0.15, (untrained, ev)
    assert ev["max_iou"] > untrained["max_iou"], (untrained, ev)


def test_tools_export_and_saved_model_evaluation_match_keras(run, tmp_path):
    cfg, _, results, _, model_dir = run
    cfg.export.warmup_requests = 1
    model, task, step = trainer.restore_for_inference(cfg, model_dir)
    assert step == STEPS
    done = export.export_all(model, task, str(tmp_path), "ndn", cfg.export, 0)
    path, report = done["saved_model"]
    assert {"serving_default/boxes", "serving_default/loc_relations"} <= set(report)
    assert max(report.values()) <= 1e-5, report
    got = task.evaluate_saved_model(tf.saved_model.load(path), 32)
    for key, value in results["eval"].items():
        if key != "step":
            assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key


def test_seeded_training_inputs_are_reproducible(run):
    """Hidden relations, the unknown fraction and the noises come from each element's own seed: 8 tf.data threads
    give the 1-thread batches (stateful draws in the parallel map followed thread order)."""
    cfg = run[0]
    task = build_task(cfg)

    def batches(threads):
        options = tf.data.Options()
        options.threading.private_threadpool_size = threads
        ds = task.build_inputs(cfg.train_data, True, 4).with_options(options)
        return [x for x, _ in ds.take(6).as_numpy_iterator()]

    serial = batches(1)
    for got, want in zip(batches(8), serial, strict=True):
        for key in ("loc_partial", "eps_layout", "box_noise"):
            assert (got[key] == want[key]).all(), key

"""Item 5 at a test-sized schedule, through the trainer and the s2dnet Task, on tools.make_hpatches_synth's
HPatches-layout pairs (skimage.data photographs, 48 x 64): MMA(3 px) of the sparse-to-dense matches must rise
from the untrained network's level above a bar. The run uses jit_compile=True, so it is also METHOD_CONTRACT
item 9's XLA train step. The trained model is then exported (serving_default, match, match_images with fixed
sizes and a keypoint mask; verified against Keras by the exporter, warmup records written: item 7, spec check 8)
and the SavedModel's MMA must equal Keras'. The README's measured small run is the full
s2dnet_tiny_hpatches_synth schedule (96 x 128)."""

from __future__ import annotations

import numpy as np
import pytest

from official.core import config as config_lib
from official.core.task import build_task
from official.core.trainer import run_experiment
from tools import make_hpatches_synth

STEPS = 30
SPLITS = {"train": ("astronaut", "coffee", "rocket", "camera"), "test": ("chelsea", "coins")}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("s2dnet_run")
    data = str(tmp / "synth")
    make_hpatches_synth.write_hpatches_synth(data, height=48, width=64, crops=2, seed=0, splits=SPLITS)
    size = "image_height=48,{0}.image_width=64,{0}.num_keypoints=32"
    overrides = (f"trainer.train_steps={STEPS},trainer.steps_per_loop={STEPS},trainer.lr_schedule.base_lr=3e-3,"
                 f"runtime.jit_compile=true,train_data.path={data}/train,eval_data.path={data}/test,"
                 f"train_data.{size.format('train_data')},eval_data.{size.format('eval_data')}")
    cfg = config_lib.resolve("s2dnet_tiny_hpatches_synth", params_override=overrides)
    task = build_task(cfg)
    results, model = run_experiment(cfg, str(tmp / "run"), mode="train_and_eval", return_model=True)
    return cfg, task, results, model, tmp


def test_short_run_learns_to_match(trained):
    _, _, results, _, _ = trained
    ev = results["eval"]
    assert results["step"] == STEPS and np.isfinite(results["loss"])
    assert {"level_1_loss", "level_2_loss", "level_3_loss"} <= set(results), results
    assert ev["pairs"] == 20, ev
    # measured on this fixture: 0.833 MMA@3, 3.5 matches per pair (untrained, lr 0: 0.2 and 0.65)
    assert ev["mma@3"] > 0.6 and ev["matches"] > 2.0, ev


def test_exported_saved_model_matches_like_keras(trained):
    import tensorflow as tf

    from official.core import export

    cfg, task, results, model, tmp = trained
    path, report = export.export_saved_model(model, task, str(tmp / "exports"), "s2dnet", cfg.export, 0)
    assert set(report) >= {"serving_default/features_1", "match/matches", "match/valid", "match_images/matches"}
    assert max(report.values()) <= 1e-4, report
    logs = export.read_warmup_requests(f"{path}/assets.extra/tf_serving_warmup_requests")
    assert [log.predict_log.request.model_spec.signature_name for log in logs] == ["serving_default", "match_images"]
    loaded = tf.saved_model.load(path)
    match = loaded.signatures["match"]
    fixed = {k: tuple(v.shape) for k, v in match.structured_input_signature[1].items()}
    assert fixed["keypoints"] == (None, 32, 2) and fixed["keypoint_mask"] == (None, 32)
    assert fixed["source_features_1"] == (None, 48, 64, 32) and fixed["target_features_3"] == (None, 3, 4, 32)
    metrics = task.evaluate_saved_model(loaded, 4)
    for key, value in results["eval"].items():
        assert metrics[key] == pytest.approx(value, abs=1e-9), key

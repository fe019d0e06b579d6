"""rsn_tiny trained on stick figures (tests/fixtures/rsn_tiny_poses.weights.h5: `rsn_tiny_poses`, 250 CPU
steps on `POSES_COMMAND`'s set, see official/vision/rsn/README.md) on a freshly drawn val set: COCO keypoint
AP far above an untrained model's, and the SavedModel (serving_default, serving_image) and int8 TFLite
exports verified against Keras by tools.export's checks (the float16 TFLite conversion, which re-traced
and converted the whole network again, is left to the MobileNeXt export tests: CI time)."""

from __future__ import annotations

import os

import pytest

from official.core import config as config_lib
from official.core import export
from official.core.task import build_task

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "fixtures", "rsn_tiny_poses.weights.h5")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tools.make_poses import write_poses

    root = tmp_path_factory.mktemp("data")
    write_poses(str(root / "poses"), 16, 24, size=128, seed=11, max_persons=1)
    cfg = config_lib.resolve("rsn_tiny_poses", [], "trainer.global_batch_size=8", str(root))
    task = build_task(cfg)
    model = task.build_model()
    model.load_weights(FIXTURE)
    return cfg, task, model


@pytest.mark.slow
def test_trained_tiny_rsn_finds_the_joints(trained):
    cfg, task, model = trained
    metrics = task.evaluate(model, task.build_inputs(cfg.eval_data, False, 8))
    # a random-weight rsn_tiny scores AP ~0; the fixture measured AP50 ~0.9 on the 60-figure val split
    assert metrics["AP50"] > 0.6 and metrics["AP"] > 0.35, metrics


@pytest.mark.slow
def test_exports_verify(trained, tmp_path):
    cfg, task, model = trained
    cfg.export.quantize = "int8"
    cfg.export.representative_examples = 16
    done = export.export_all(model, task, str(tmp_path), "rsn", cfg.export, cfg.eval_data.image_size)
    saved, report = done["saved_model"]
    assert {"serving_default/heatmaps", "serving_default/keypoints", "serving_image/keypoints"} <= set(report)
    assert max(report.values()) <= cfg.export.atol
    path, tfl = done["tflite"]
    assert path.endswith("rsn_int8.tflite") and tfl["agreement"] >= cfg.export.min_top1_agreement, tfl

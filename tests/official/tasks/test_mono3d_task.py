"""The mono3d Task on a tiny synthetic KITTI-layout set (tools.make_kitti_boxes): training batches fit the
model's loss; an oracle that returns the ground truth (in input pixels, as `detect` does) scores what the label files
themselves score in 2d / bev / 3d through the task's inverse warp and the KITTI evaluator (a wrong inverse affine fails it). The exported
serving graph is checked with trained weights in tests/official/vision/test_rtm3d_trained.py."""

from __future__ import annotations

import numpy as np
import pytest

from official.core import config as config_lib
from official.core.task import build_task


@pytest.fixture(scope="module")
def boxes(tmp_path_factory) -> str:
    from tools.make_kitti_boxes import write_kitti_boxes

    root = tmp_path_factory.mktemp("data")
    write_kitti_boxes(str(root / "kitti_boxes_near"), 4, 4, seed=5, max_objects=3, max_depth=20.0)
    return str(root)


@pytest.fixture(scope="module")
def task(boxes):
    overrides = "trainer.global_batch_size=2,train_data.cache=false,eval_data.cache=false,model.center_threshold=0.0"
    return build_task(config_lib.resolve("rtm3d_tiny_boxes", [], overrides, boxes))


def test_training_batches_fit_the_loss(task):
    images, y = next(iter(task.build_inputs(task.config.train_data, True, 2)))
    assert images.shape == (2, 128, 416, 3)
    assert y["hm"].shape == (2, 32, 104, 3) and y["hm_hp"].shape == (2, 32, 104, 9) and y["hps"].shape == (2, 8, 18)
    hm, ind, mask = np.asarray(y["hm"]), np.asarray(y["ind"]), np.asarray(y["rot_mask"]) > 0
    assert mask.sum() >= 2
    for b in range(2):
        peaks = hm[b].reshape(-1, 3).max(-1)[ind[b][mask[b]]]
        np.testing.assert_allclose(peaks, 1.0)  # every object's centre cell is a heatmap peak
    model = task.build_model()
    model.compile(optimizer="adam", loss=None)
    loss = model.compute_loss(images, y, model(images, training=True))
    assert np.isfinite(float(loss)) and float(loss) > 0


def _oracle(task, batches):
    """A detect function returning each eval frame's ground truth mapped into the input frame."""
    def detect(images, P2):
        x = next(batches)
        a = np.asarray(x["input_affine"])  # (B, 2, 3) original -> input pixels
        boxes = np.asarray(x["gt_boxes2d"])  # already in input pixels (the transform moved them)
        valid = np.asarray(x["gt_valid"])
        dims, locs, ry = (np.asarray(x[k]) for k in ("gt_dimensions", "gt_locations", "gt_rotation_y"))
        assert a.shape[-2:] == (2, 3)
        return {"boxes2d": boxes, "dimensions": dims, "locations": locs, "rotation_y": ry,
                "alpha": np.asarray(x["gt_alpha"]), "scores": valid.astype(np.float32),
                "classes": np.maximum(np.asarray(x["gt_classes"]), 0), "valid": valid}

    return detect


def _perfect(task) -> dict:
    """The evaluator's own score for the label files given back as results (< 100 with under 40 objects:
    the devkit's curve has one point per true positive)."""
    import dataclasses
    import os

    from official.data.kitti_format import read_label_file
    from official.evaluation.kitti.api import evaluate_kitti_objects

    records = task.records(task.config.eval_data)
    gts = [read_label_file(os.path.join(records.root, "label_2", f"{i}.txt")) for i in records.image_ids]
    kept = [[dataclasses.replace(o, score=1.0) for o in g if o.type in ("Car", "Pedestrian", "Cyclist")] for g in gts]
    return evaluate_kitti_objects(gts, kept)


def test_oracle_detections_score_like_the_labels_themselves(task):
    data = task.config.eval_data
    dataset = task.build_inputs(data, False, 2)
    metrics = task._evaluate_batches(_oracle(task, iter(dataset)), dataset, None, None)
    assert metrics["frames"] == 4
    car, want = metrics["kitti@0.7"]["Car"], _perfect(task)["Car"]
    for metric in ("2d", "bev", "3d"):
        assert want[metric]["moderate"] > 0
        assert car[metric]["moderate"] == pytest.approx(want[metric]["moderate"], abs=1e-6), (metric, car, want)
    # Boxes mapped back with the wrong inverse (here: none) miss the 2D ground truth.
    original = task.to_original
    try:
        task.to_original = staticmethod(lambda boxes, inv, size: boxes)
        broken = task._evaluate_batches(_oracle(task, iter(dataset)), dataset, None, None)
    finally:
        task.to_original = original
    assert broken["kitti@0.7"]["Car"]["2d"]["moderate"] < 0.5 * want["2d"]["moderate"]


def test_config_defaults_are_km3ds():
    """official/tasks/mono3d_config.py: the KITTI defaults are KM3D's (kittihp.py, car_pose.py, opts.py)."""
    from official.tasks.mono3d_config import Mono3dDataConfig, Mono3dTaskConfig

    data, task = Mono3dDataConfig(), Mono3dTaskConfig()
    assert data.input_size == (384, 1280) and data.max_objects == 32 and data.border == 128
    np.testing.assert_allclose(data.scales, np.arange(0.6, 1.4, 0.1))
    assert data.classes == ("Car", "Pedestrian", "Cyclist") and task.num_classes == 3
    assert task.recall_points == 40 and "path" in Mono3dDataConfig.PATH_FIELDS

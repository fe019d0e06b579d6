"""The detection task's evaluation maps detections back to original pixels and COCO category ids.

A CPN with planted corners (tests/detection_helpers.py) must return the scene's boxes, computed
independently as cell x stride / resize factor (or mirrored, for the pair that only the flip test's
mirrored view sees), on letterboxed landscape and portrait COCO images. A random CPN emits no
detection, so without planted ones a dropped `unmap_boxes` or flip merge would pass unseen.
"""

from __future__ import annotations

import pytest

from official.core.task import build_task
from tests import detection_helpers as dh


def test_evaluation_maps_detections_to_original_pixels(tmp_path):
    root = str(tmp_path)
    cfg = dh.scene_experiment(root, dh.write_scene(root))
    task = build_task(cfg)
    model = dh.plant_corner_detector(task.build_model())
    dataset = task.build_inputs(cfg.eval_data, False, 3)
    # evaluate() is _collect (detect, unmap_boxes, clipping, category ids) + _metrics: split to see the
    # results. Eager detect: tracing it costs more than running it on one batch.
    results, seen = task._collect(lambda images, sizes: model.detect(images, sizes), dataset, None)
    assert sorted(seen) == [1, 2, 3]
    dh.check_scene_results(results, "task evaluation")
    metrics = task._metrics(results, seen, True, False)  # the ground truth is the expected boxes
    assert metrics["AP"] == pytest.approx(1.0) and metrics["AP75"] == pytest.approx(1.0), metrics

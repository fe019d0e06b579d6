"""tools.export names what serving_default takes: an image size for image models, the point tensor for
point models (the banner used to print 224x224 for every model)."""

from __future__ import annotations

from official.core import config as config_lib
from official.core import task as task_lib
from tools.export import serving_inputs


def _describe(experiment: str, size: int) -> str:
    cfg = config_lib.resolve(experiment)
    task = task_lib.build_task(cfg)
    return serving_inputs(task, task.build_model(), size)


def test_image_model_names_its_image_size():
    text = _describe("mobilenetv2_035_digits", 32)
    assert "[?x32x32x3]" in text, text


def test_point_model_names_its_points_not_an_image():
    text = _describe("pointnet2_tiny_shapes", 224)
    assert "224" not in text and "x3]" in text and "float32" in text, text

"""benchmarks/tflite_full_size.py on the tiny ForkGAN generator: the float16 file reproduces Keras within the
exporter's float16 tolerance and holds stock ops, and a model that is not image-to-image is refused."""

import pytest

from benchmarks.tflite_full_size import measure


def test_tiny_forkgan_converts_and_matches_keras():
    result = measure("forkgan_tiny", (32, 64), "float16", 1, 0)
    assert result["parameters"] == 113_816 and result["image_size"] == [32, 64]
    assert 0 < result["max_abs_diff"] < 1e-2 and result["tflite_mib"] > 0
    assert {"CONV_2D", "TRANSPOSE_CONV", "TANH"} <= set(result["ops"])


def test_a_model_with_two_inputs_is_refused():
    with pytest.raises(ValueError, match="not a one-image-in, one-image-out generator"):
        measure("coco_funit_tiny", (32, 32), "float16", 1, 0)

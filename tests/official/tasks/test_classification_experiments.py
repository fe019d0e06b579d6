"""The classification experiment helper: dataset presets, split-specific overrides, model values."""

from __future__ import annotations

import pytest

from official.core.config import TrainerConfig
from official.tasks.classification_experiments import classification_experiment, digits_experiment


def test_digits_experiment_sets_classes_input_and_int8_export():
    cfg = digits_experiment("mobilenext_035")
    assert (cfg.task.num_classes, cfg.model.classes, cfg.model.input_shape) == (10, 10, (32, 32, 3))
    assert cfg.train_data.random_resized_crop and not cfg.eval_data.random_resized_crop
    assert not cfg.train_data.horizontal_flip  # digits are not symmetric
    assert cfg.export.quantize == "int8"


def test_train_only_overrides_stay_out_of_evaluation():
    cfg = classification_experiment(
        "mobilenext_100", "imagenet", trainer=TrainerConfig(), data={"interpolation": "bicubic"},
        train_data={"color_jitter": 0.4}, dropout=0.1,
    )
    assert cfg.train_data.interpolation == cfg.eval_data.interpolation == "bicubic"
    assert (cfg.train_data.color_jitter, cfg.eval_data.color_jitter) == (0.4, 0.0)
    assert (cfg.model.classes, cfg.model.dropout) == (1000, 0.1)


def test_unknown_dataset_is_named():
    with pytest.raises(ValueError, match="cifar"):
        classification_experiment("mobilenext_100", "cifar", trainer=TrainerConfig())

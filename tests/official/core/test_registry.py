"""The registries: lookups, duplicate protection, and errors that name what was asked for."""

from __future__ import annotations

import pytest

from official.core import registry


def test_lists_contain_foundation_entries():
    assert {"mobilenetv2_100", "mobilenetv2_035"} <= set(registry.list_models())
    assert "mobilenetv2_035_digits" in registry.list_experiments()
    assert "image_classification" in registry.list_tasks()
    assert registry.list_models("mobilenetv2_*") == ["mobilenetv2_035", "mobilenetv2_100"]


def test_unknown_names_are_clear_errors():
    with pytest.raises(registry.RegistryError, match="unknown model 'mobilenetv2_999'.*similar: mobilenetv2_035"):
        registry.create_model("mobilenetv2_999")
    with pytest.raises(registry.RegistryError, match="unknown experiment 'nope'"):
        registry.get_experiment("nope")


def test_duplicate_registration_is_refused():
    def a():
        return 1

    def b():
        return 2

    registry.register_model("dup_test_model")(a)
    try:
        with pytest.raises(registry.RegistryError, match="registered twice"):
            registry.register_model("dup_test_model")(b)
    finally:
        registry.unregister_model("dup_test_model")


def test_experiments_are_fresh_objects():
    a = registry.get_experiment("mobilenetv2_035_digits")
    a.trainer.epochs = 999
    assert registry.get_experiment("mobilenetv2_035_digits").trainer.epochs != 999


def test_create_model_drops_none_overrides():
    model = registry.create_model("mobilenetv2_035", classes=7, input_shape=(32, 32, 3), dropout=None)
    assert model.outputs[0].shape[-1] == 7

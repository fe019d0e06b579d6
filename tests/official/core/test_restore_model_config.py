"""restore_for_inference refuses a checkpoint whose run built the network from other model arguments
(positional checkpoint names would otherwise load into the wrong layers without a shape error)."""

from __future__ import annotations

import pytest

from official.core import config as config_lib
from official.core import registry
from official.core.trainer import check_trained_model_config


def test_model_arguments_must_match_the_training_run(tmp_path):
    cfg = registry.get_experiment("mobilenext_035_digits")
    config_lib.save_yaml(cfg, str(tmp_path / "config.yaml"))
    check_trained_model_config(cfg, str(tmp_path))  # the same arguments: fine
    check_trained_model_config(cfg, str(tmp_path / "no_run_folder"))  # no config.yaml: nothing to compare
    cfg.model.keras_file = "other.keras"  # not an architecture argument
    check_trained_model_config(cfg, str(tmp_path))

    changed = registry.get_experiment("mobilenext_035_digits")
    changed.model.bn_momentum = 0.5
    with pytest.raises(config_lib.ConfigError, match=r"config.yaml: model.bn_momentum: the checkpoint was trained with 0.9"):
        check_trained_model_config(changed, str(tmp_path))

"""Every registered model, found through the registry (a new model is swept without touching this file).

Each builds with its defaults, runs forward on random weights, and round-trips get_config (whole config
and outputs) and a .keras file. Inputs are the model's own fixed size, or 128x128 where it takes any
size; models above 30M parameters skip the .keras file (hundreds of MB) and above 50M the forward
pass, but still round-trip their config.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.core import registry
from tests import helpers

MODELS = registry.list_models()
KERAS_FILE_MAX_PARAMS = 30_000_000
FORWARD_MAX_PARAMS = 50_000_000  # the Hourglass CPNs: a CPU forward pass alone takes a minute


def test_zoo_has_the_models_and_experiments_of_the_open_issues():
    assert {"mobilenetv2_100", "mobilenetv2_035", "mobilenext_100", "cpn_dla34"} <= set(MODELS)
    assert "mobilenetv2_035_digits" in registry.list_experiments()


@pytest.mark.parametrize("name", MODELS)
def test_model_builds_runs_and_round_trips(name, tmp_path):
    keras.backend.clear_session()
    model = registry.create_model(name)
    assert helpers.trainable_count(model) > 0
    if model.count_params() > FORWARD_MAX_PARAMS:
        helpers.check_config_round_trip(model)
        return
    helpers.randomise_weights(model)
    shape = [d or 128 for d in model.inputs[0].shape[1:]]
    images = np.random.default_rng(0).uniform(0, 1, size=[1, *shape]).astype(np.float32)
    outputs = helpers.outputs_of(model, images)
    assert outputs and all(np.all(np.isfinite(o)) for o in outputs)
    helpers.check_config_round_trip(model, images, atol=1e-5)
    if model.count_params() <= KERAS_FILE_MAX_PARAMS:
        helpers.check_keras_round_trip(model, tmp_path, images, atol=1e-5)


def test_experiments_resolve_to_registered_models():
    for name in registry.list_experiments():
        cfg = registry.get_experiment(name)
        assert cfg.model.name in MODELS, f"{name}: model {cfg.model.name} is not registered"
        assert cfg.task.name in registry.list_tasks(), f"{name}: task {cfg.task.name} is not registered"

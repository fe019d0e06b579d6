"""Every registered model, found through the registry (a new model is swept without touching this file).

Each builds with its defaults, has every variable in the trainer's tf.train.Checkpoint, has the
parameter counts (and, for classifiers, the MAdds) recorded in the model table that `python -m tools.list` prints (official/core/model_table.json), runs forward on
random weights, and round-trips a .keras file (loading rebuilds it from get_config: whole config and
outputs are compared; the smallest variant of each model class and code path; its larger siblings are
built, counted and run). Inputs are the model's own fixed size, or 128x128 where it takes any size; models
above 30M parameters round-trip get_config in memory instead of a .keras file (hundreds of MB); above 50M they are built by weight shape only (nothing allocated: Hourglass-104
takes ~1 s instead of ~4 s and 0.9 GB), counted and round-trip their config, without a forward pass.
The table must also name every registered model and experiment with its task and defaults, hold the
counts of each experiment's model, and README.md's Models table must be `tools.list --markdown`.
"""

from __future__ import annotations

import subprocess
import sys

import keras
import numpy as np
import pytest

from official.core import config as config_lib
from official.core import model_table, registry
from tests import helpers

MODELS = registry.list_models()
EXPERIMENTS = registry.list_experiments()
TABLE = model_table.load()
RECOUNT = "python -m tools.list --recount --pattern="
KERAS_FILE_MAX_PARAMS = 30_000_000
FORWARD_MAX_PARAMS = 50_000_000  # the Hourglass CPNs: a CPU forward pass alone takes a minute


def test_zoo_has_the_models_and_experiments_of_the_open_issues():
    assert {"mobilenetv2_100", "mobilenetv2_035", "mobilenext_100", "cpn_dla34"} <= set(MODELS)
    assert "mobilenetv2_035_digits" in registry.list_experiments()


def _recorded(kind: str, name: str) -> dict:
    recorded = TABLE[kind].get(name)
    assert recorded is not None, f"{name} is not in official/core/model_table.json; run `{RECOUNT}{name}`"
    return recorded


def _check_counts(kind: str, name: str, recorded: dict, counted: dict) -> None:
    wrong = {k: (recorded.get(k), v) for k, v in counted.items() if recorded.get(k) != v}
    assert not wrong, (
        f"{kind} {name}: official/core/model_table.json differs from a rebuild "
        f"({', '.join(f'{k} {r!r} recorded, {v!r} built' for k, (r, v) in wrong.items())}); run `{RECOUNT}{name}`"
    )


def _counts(model) -> dict:
    trainable, total = model_table.weight_counts(model)
    return {"trainable": trainable, "total": total}


def _representatives() -> set[str]:
    """The models whose config and .keras round trips the sweep checks: per model class and code path (the
    variant's fixed bool and str arguments), the one with the fewest weights. Larger variants differ from it
    in widths and depths only, so they are built, counted and run forward without rebuilding them twice more
    (CI time: partaware_pose_search takes 31 s to build, rsn_101 and rsn_18x4 a minute for both trips).
    A builder that is not a `register_variant` stands alone."""
    groups: dict = {}
    for name in MODELS:
        builder = registry.get_model_builder(name)
        cls = getattr(builder, "model_cls", None)
        key = (cls, tuple(sorted((k, v) for k, v in builder.fixed.items() if isinstance(v, (bool, str))))) if cls else name
        groups.setdefault(key, []).append((TABLE["models"].get(name, {}).get("total", 0), name))
    return {min(members)[1] for members in groups.values()}


ROUND_TRIPPED = _representatives()


@pytest.mark.parametrize("name", MODELS)
def test_model_builds_runs_and_round_trips(name, tmp_path):
    keras.backend.clear_session()
    recorded = _recorded("models", name)
    if recorded["total"] > FORWARD_MAX_PARAMS:  # by shape only: the clone of the round trip too
        with model_table.shape_only():
            model = registry.create_model(name)
            _check_counts("model", name, recorded, _counts(model))
            assert helpers.trainable_count(model) > 0
            helpers.check_config_round_trip(model)
        return
    model = registry.create_model(name)
    _check_counts("model", name, recorded, _counts(model))
    assert helpers.trainable_count(model) > 0
    missed = helpers.checkpoint_misses(model)
    assert not missed, f"{name}: the trainer's tf.train.Checkpoint would not save {len(missed)} variables, e.g. {missed[:3]}"
    if recorded["madds"] is not None:
        _check_counts("model", name, recorded, {"madds": model_table.madds(model, recorded["input"])})
    helpers.randomise_weights(model)
    images = _sweep_inputs(model)
    outputs = helpers.outputs_of(model, images)
    assert outputs and all(np.all(np.isfinite(o)) for o in outputs)
    if name not in ROUND_TRIPPED:
        return  # a larger sibling of a round-tripped variant (same class and code path): see _representatives
    if model.count_params() <= KERAS_FILE_MAX_PARAMS:  # loading the file is a config round trip too
        helpers.check_keras_round_trip(model, tmp_path, images, atol=1e-5, expected=outputs)
    else:
        helpers.check_config_round_trip(model, images, atol=1e-5, expected=outputs)


def _sweep_inputs(model):
    """One example: the model's own `example_inputs(batch)` where it has one (sparse voxel inputs need
    unique coordinates), else uniform [0, 1) floats per input (free sizes 128) and zeros for integers."""
    if hasattr(model, "example_inputs"):
        return model.example_inputs(1)
    rng = np.random.default_rng(0)

    def one(t):
        shape = [1, *(d or 128 for d in t.shape[1:])]
        return rng.uniform(0, 1, size=shape).astype(np.float32) if t.dtype.startswith("float") else np.zeros(shape, t.dtype)

    if len(model.inputs) == 1:
        return one(model.inputs[0])
    return {t.name: one(t) for t in model.inputs}  # named inputs (side-tuning's {"images", "task_id"})


def test_experiments_resolve_to_registered_models():
    for name in registry.list_experiments():
        cfg = registry.get_experiment(name)
        assert cfg.model.name in MODELS, f"{name}: model {cfg.model.name} is not registered"
        assert cfg.task.name in registry.list_tasks(), f"{name}: task {cfg.task.name} is not registered"


# --- the rest of the recorded model table (tools.list) -------------------------------------------


def _without_counts(entries: dict) -> dict:
    return {n: {k: v for k, v in e.items() if k not in ("trainable", "total", "madds")} for n, e in entries.items()}


def test_model_table_names_every_registered_model_and_experiment():
    """Names, families, tasks, defaults and experiment links as the registry has them (nothing is built)."""
    derived = model_table.derive()
    for key in ("families", "models", "experiments"):
        recorded, expected = _without_counts(TABLE[key]), _without_counts(derived[key])
        assert recorded == expected, (
            f"official/core/model_table.json '{key}' is out of date: missing {sorted(set(expected) - set(recorded))}, "
            f"stale {sorted(set(recorded) - set(expected))}, differing "
            f"{sorted(n for n in set(recorded) & set(expected) if recorded[n] != expected[n])}; run `{RECOUNT}'*'`"
        )
    for name, entry in derived["models"].items():
        assert (TABLE["models"][name]["madds"] is not None) == model_table.wants_madds(entry), (
            f"{name}: MAdds recorded for a model without them, or missing; run `{RECOUNT}{name}`"
        )


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_model_counts_are_recorded(name):
    """The model each experiment's config builds, counted by weight shape (its variant is really built above).
    An experiment that keeps every constructor argument of its variant (124 of 171) builds exactly that
    variant, whose counts test_model_builds_runs_and_round_trips checks: its recorded counts must equal the
    variant's, and it is not built a second time (partaware_pose_search_h36m took 27 s, rsn_50x4_coco 11 s)."""
    recorded = _recorded("experiments", name)
    cfg = registry.get_experiment(name)
    if config_lib.model_kwargs(cfg.model) == config_lib.model_kwargs(config_lib.model_config(cfg.model.name)):
        variant = _recorded("models", cfg.model.name)
        _check_counts("experiment", name, recorded, {k: variant[k] for k in ("trainable", "total")})
        return
    _check_counts("experiment", name, recorded, model_table.count_experiment(name))


def test_readme_models_table_is_tools_list_markdown():
    with open(model_table.README_PATH, encoding="utf-8") as f:
        block = model_table.readme_block(f.read())
    assert block is not None, f"README.md lacks the lines {model_table.README_BEGIN} ... {model_table.README_END}"
    proc = subprocess.run([sys.executable, "-m", "tools.list", "--markdown"], cwd=model_table.REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert block == proc.stdout, (
        "README.md's Models table differs from `python -m tools.list --markdown`: put that output between "
        f"its markers, or run `{RECOUNT}'*'` (which rewrites both)"
    )

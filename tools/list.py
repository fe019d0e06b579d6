"""List every registered model (with its parameter count) and every experiment.

    python -m tools.list [--pattern='mobilenext_*'] [--no_params]
"""

from __future__ import annotations

from absl import app, flags

PATTERN = flags.DEFINE_string("pattern", "*", "Glob that model and experiment names must match.")
NO_PARAMS = flags.DEFINE_bool("no_params", False, "Skip building models to count parameters (faster).")


def main(argv: list[str]) -> int:
    import keras

    from official.core import registry

    models = registry.list_models(PATTERN.value)
    print(f"models ({len(models)})")
    for name in models:
        if NO_PARAMS.value:
            print(f"  {name}")
            continue
        model = registry.create_model(name)
        print(f"  {name:<28} {model.count_params():>14,} parameters")
        del model
        keras.backend.clear_session()
    experiments = registry.list_experiments(PATTERN.value)
    print(f"experiments ({len(experiments)})")
    for name in experiments:
        cfg = registry.get_experiment(name)
        print(f"  {name:<36} model={cfg.model.name:<20} task={cfg.task.name}")
    return 0


if __name__ == "__main__":
    app.run(main)

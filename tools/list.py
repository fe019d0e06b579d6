"""List every registered model (with its parameter counts) and every experiment.

    python -m tools.list [--pattern='mobilenext_*'] [--no_params]

Two counts per model: trainable parameters (what papers, timm and PyTorch's `parameters()` count,
BN gamma/beta included) and the Keras total, which adds BatchNorm's moving mean and variance (what
`model.summary()` and keras.applications report).
"""

from __future__ import annotations

from absl import flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the flags; called only when the tool runs, so tools can be imported together."""
    flags.DEFINE_string("pattern", "*", "Glob that model and experiment names must match.")
    flags.DEFINE_bool("no_params", False, "Skip building models to count parameters (faster).")


def main(argv: list[str]) -> int:
    import keras
    import numpy as np

    from official.core import registry

    models = registry.list_models(FLAGS.pattern)
    print(f"models ({len(models)})")
    if not FLAGS.no_params:
        print(f"  {'name':<28} {'trainable':>14} {'total (+BN stats)':>18}")
    for name in models:
        if FLAGS.no_params:
            print(f"  {name}")
            continue
        model = registry.create_model(name)
        trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
        print(f"  {name:<28} {trainable:>14,} {model.count_params():>18,}")
        del model
        keras.backend.clear_session()
    experiments = registry.list_experiments(FLAGS.pattern)
    print(f"experiments ({len(experiments)})")
    for name in experiments:
        cfg = registry.get_experiment(name)
        print(f"  {name:<36} model={cfg.model.name:<20} task={cfg.task.name}")
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

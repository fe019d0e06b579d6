"""List the registered models (parameter counts, MAdds, task) and experiments, in about a second.

    python -m tools.list [--pattern='mobilenext_*'] [--task=detection] [--markdown | --json]
    python -m tools.list --recount [--pattern='newmodel_*']     # after adding or changing a model

The listing reads the recorded table `official/core/model_table.json` (official/core/model_table.py):
it builds no model and imports neither Keras nor TensorFlow. Counts are at each variant's registered
defaults: trainable parameters (what papers, timm and PyTorch's `parameters()` count, BN gamma/beta
included) and the Keras total, which adds BatchNorm's moving mean and variance (what `model.summary()`
and keras.applications report); MAdds for classifiers at their input (`tools.profile`).
`--recount` imports the zoo, rebuilds the matching variants by weight shape (nothing is allocated;
classifiers are really built for their MAdds), and rewrites the table and README.md's "Models" table;
tests/test_registry_sweep.py fails when either is out of date.
"""

from __future__ import annotations

import json
import os
import sys

from absl import flags

from official.core.errors import UserError
from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the flags; called only when the tool runs, so tools can be imported together."""
    flags.DEFINE_string("pattern", "*", "Glob that model and experiment names must match, e.g. 'cpn_*'.")
    flags.DEFINE_string(
        "task", "*", "Only models and experiments of this task, e.g. image_classification or detection."
    )
    flags.DEFINE_bool("markdown", False, "Print the README's Markdown tables instead of the plain listing.")
    flags.DEFINE_bool("json", False, "Print the selected entries as JSON (families, models, experiments).")
    flags.DEFINE_bool(
        "recount", False,
        "Rebuild the models matching --pattern (all by default), count their parameters and MAdds, and "
        "rewrite official/core/model_table.json and README.md's Models table. Imports TensorFlow.",
    )
    flags.DEFINE_bool("no_params", False, "Print names only (kept for old scripts: listing builds nothing).")


def _print_plain(table: dict, names_only: bool) -> None:
    models, experiments = table["models"], table["experiments"]
    print(f"models ({len(models)}; counts at registered defaults, from official/core/model_table.json)")
    if not names_only and models:
        print(f"  {'name':<24} {'task':<22} {'trainable':>13} {'total (+BN stats)':>18} {'MAdds':>10}")
    for name, e in models.items():
        if names_only:
            print(f"  {name}")
            continue
        madds = "-" if e["madds"] is None else f"{e['madds'] / 1e6:,.1f}M"
        print(f"  {name:<24} {e['task'] or '-':<22} {e['trainable']:>13,} {e['total']:>18,} {madds:>10}")
    print(f"experiments ({len(experiments)})")
    for name, e in experiments.items():
        if names_only:
            print(f"  {name}")
            continue
        print(f"  {name:<28} model={e['model']:<18} task={e['task']:<21} trainable={e['trainable']:,}")


def _recount() -> dict:
    from official.core import model_table

    try:
        old = model_table.load()
    except model_table.TableError:
        old = None
    with _cli.quiet_stderr():  # the zoo's import loads TensorFlow
        from official.core import registry

        registry.list_models()
    table = model_table.recount(FLAGS.pattern, old)
    model_table.save(table)
    model_table.write_readme(table)
    print(f"wrote {model_table.TABLE_PATH} and the Models table of {model_table.README_PATH}")
    return table


def main(argv: list[str]) -> int:
    del argv
    from official.core import model_table

    if FLAGS.markdown and FLAGS.json:
        raise UserError("--markdown and --json: pick one")
    table = _recount() if FLAGS.recount else model_table.load()
    tasks = sorted({t for e in table["models"].values() for t in e["task"].split(",") if t})
    if FLAGS.task != "*" and FLAGS.task not in tasks:
        raise UserError(f"--task={FLAGS.task}: no model of this task (tasks: {', '.join(tasks)})")
    table = model_table.select(table, FLAGS.pattern, FLAGS.task)
    try:
        if FLAGS.markdown:
            print(model_table.markdown(table), end="")
        elif FLAGS.json:
            print(json.dumps(table, indent=1))
        else:
            _print_plain(table, FLAGS.no_params)
        sys.stdout.flush()
    except BrokenPipeError:  # `tools.list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

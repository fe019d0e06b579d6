"""Evaluate, and fine-tune, a network pruned by tools.prune on its experiment's data (DSA's last stage).

    python -m official.training.dsa.finetune --experiment=dsa_resnet20_digits --pruned=OUT/pruned.keras \
        --steps=110 --out=FT

The pruned network is a new, smaller architecture that no registered model builds, so tools.train
cannot fine-tune it; this runs the experiment's own task (data, loss, metrics) and optimizer recipe
(trainer.optimizer, lr_schedule over --steps, weight decay) on it with Keras' fit, single device.
Prints and writes FT/finetune.json (metrics before and after) and FT/finetuned.keras. --steps=0 only
evaluates.
"""

from __future__ import annotations

import dataclasses
import json
import os

from absl import flags

from tools import _cli

FLAGS = flags.FLAGS


def finetune(cfg, model, steps: int) -> dict:
    """{"before": metrics, "after": metrics} of `model` on cfg.eval_data, `steps` of cfg's recipe between."""
    import keras

    from official.core import optimization
    from official.core.task import build_task

    task = build_task(cfg)
    batch = cfg.trainer.global_batch_size
    result = {}
    model.compile(loss=task.build_losses(), metrics=task.build_metrics())
    result["before"] = task.evaluate(model, task.build_inputs(cfg.eval_data, False, batch))
    if steps > 0:
        trainer = dataclasses.replace(cfg.trainer, train_steps=steps)
        per_epoch = max((task.num_examples(cfg.train_data) or batch * steps) // batch, 1)
        optimizer, _ = optimization.configure_optimizer(model, trainer, per_epoch, steps, 1.0)
        task.compile_model(model, optimizer, False)
        keras.utils.set_random_seed(cfg.runtime.seed)
        model.fit(task.build_inputs(cfg.train_data, True, batch), epochs=1, steps_per_epoch=steps, verbose=0)
        result["after"] = task.evaluate(model, task.build_inputs(cfg.eval_data, False, batch))
    return result


def main(argv) -> None:
    del argv
    import keras

    import official.training.dsa.prune  # noqa: F401  (registers ChannelPad for loading)
    from official.core import config as config_lib
    from official.core import strategy as strategy_lib
    from official.core.errors import PathNotFoundError

    cfg = config_lib.resolve(FLAGS.experiment, FLAGS.config_file, FLAGS.params_override, FLAGS.data_dir)
    strategy_lib.configure_threads(cfg.runtime.intra_op_threads, cfg.runtime.inter_op_threads)
    if not os.path.exists(FLAGS.pruned):
        raise PathNotFoundError(f"{FLAGS.pruned}: --pruned: no such file (tools.prune writes OUT/pruned.keras)")
    model = keras.saving.load_model(FLAGS.pruned, compile=False)
    result = finetune(cfg, model, FLAGS.steps)
    for stage, metrics in result.items():
        print(f"{stage:>6s}: " + " | ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items()) if isinstance(v, float)))
    if FLAGS.out:
        os.makedirs(FLAGS.out, exist_ok=True)
        with open(os.path.join(FLAGS.out, "finetune.json"), "w") as f:
            json.dump({"pruned": FLAGS.pruned, "steps": FLAGS.steps, **result}, f, indent=2, sort_keys=True)
        if FLAGS.steps > 0:
            model.save(os.path.join(FLAGS.out, "finetuned.keras"))


def define_flags() -> None:
    flags.DEFINE_string("experiment", None, "Registered experiment (gives the task, data and recipe).")
    flags.DEFINE_string("pruned", None, "pruned.keras written by tools.prune.")
    flags.DEFINE_integer("steps", 0, "Fine-tuning steps with the experiment's recipe (0: evaluate only).")
    flags.DEFINE_string("out", None, "Folder for finetune.json and finetuned.keras (optional).")
    flags.DEFINE_multi_string("config_file", [], "YAML overrides, as in tools.train.")
    flags.DEFINE_string("params_override", "", "Comma-separated overrides, as in tools.train.")
    _cli.define_data_dir_flag()
    flags.mark_flags_as_required(["experiment", "pruned"])


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

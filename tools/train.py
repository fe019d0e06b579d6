"""Train and/or evaluate a registered experiment.

    python -m tools.train --experiment=mobilenetv2_035_digits --model_dir=runs/digits \
        [--config_file=FILE.yaml] [--params_override=trainer.epochs=3,model.width=0.5] \
        [--mode=train_and_eval] [--strategy=auto] [--jit_compile=auto] [--mixed_precision=float32]

Started again with the same command, a run resumes from its newest checkpoint.
"""

from __future__ import annotations

from absl import flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the flags; called only when the tool runs, so tools can be imported together."""
    flags.DEFINE_string("experiment", None, "Registered experiment name (`python -m tools.list` prints them).")
    flags.DEFINE_string("model_dir", None, "Folder for config.yaml, checkpoints, TensorBoard logs and metrics.")
    flags.DEFINE_multi_string("config_file", [], "YAML file(s) overriding the experiment's defaults, applied in order.")
    flags.DEFINE_string("params_override", "", "Comma-separated overrides applied last, e.g. trainer.epochs=3,model.width=0.5.")
    flags.DEFINE_enum("mode", "train_and_eval", ["train", "eval", "train_and_eval"], "What to run.")
    flags.DEFINE_enum(
        "strategy", None, ["auto", "one_device", "mirrored", "multi_worker"],
        "tf.distribute strategy (overrides runtime.strategy); auto = mirrored on 2+ GPUs, one device on one GPU, "
        "TF's default strategy on CPU-only hosts (faster there); multi_worker reads TF_CONFIG.",
    )
    flags.DEFINE_enum("jit_compile", None, ["auto", "true", "false"], "XLA; auto = on only where a GPU is present.")
    flags.DEFINE_enum(
        "mixed_precision", None, ["float32", "mixed_float16", "mixed_bfloat16"], "Keras dtype policy (overrides runtime.mixed_precision)."
    )
    _cli.define_data_dir_flag()
    flags.mark_flags_as_required(["experiment", "model_dir"])


def resolve_from_flags():
    """The experiment config from --experiment, --config_file, --params_override and runtime flags."""
    from official.core import config as config_lib

    cfg = config_lib.resolve(FLAGS.experiment, FLAGS.config_file, FLAGS.params_override, FLAGS.data_dir)
    for key in ("strategy", "jit_compile", "mixed_precision"):
        value = getattr(FLAGS, key)
        if value is not None:
            config_lib.set_value(cfg, f"runtime.{key}", value)
    return cfg


def main(argv: list[str]) -> int:
    del argv
    from official.core import trainer

    cfg = resolve_from_flags()
    with _cli.naming_config_keys(cfg):
        trainer.run_experiment(cfg, FLAGS.model_dir, FLAGS.mode)
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

"""Prune a trained experiment to a FLOPs budget (DSA, issue 12): a smaller plain Keras model and a report.

    python -m tools.prune --experiment=dsa_resnet56_cifar10 --model_dir=runs/dsa56 --flops_ratio=0.5 --out=pruned56

Restores the newest checkpoint of MODEL_DIR (as tools.evaluate does), takes the per-group keep ratios a
`training.method: dsa` run saved there as the starting allocation (uniform otherwise), scales them to the
budget (official/training/dsa/prune.fit_budget), keeps the top channels of every group by the primal
conv's filter L1 norms and builds the pruned network. OUT gets pruned.keras (the commands take it as
`model.keras_file` / `--keras_file`: tools.train fine-tunes it, tools.evaluate, tools.export and
tools.profile take it as they take a registered model),
report.json (groups, per-layer channels, MAdds before/after) and profile_{before,after}.json, the counts of
`tools.profile` (official/core/madds.count_madds, the same code path). OUT is written under a temp name
and renamed when complete: on an error nothing is left there.
"""

from __future__ import annotations

import os
import shutil

from absl import app, flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the flags; called only when the tool runs, so tools can be imported together."""
    flags.DEFINE_string("experiment", None, "Registered experiment name (gives the model).")
    flags.DEFINE_string("model_dir", None, "Training folder: its newest checkpoint is pruned.")
    flags.DEFINE_float("flops_ratio", None, "FLOPs budget as a fraction of the unpruned model's MAdds, in (0, 1].")
    flags.DEFINE_string("out", None, "Output folder (must not exist, or be empty): pruned.keras, report.json.")
    flags.DEFINE_multi_string("config_file", [], "YAML overrides, as in tools.train.")
    flags.DEFINE_string("params_override", "", "Comma-separated overrides, as in tools.train.")
    flags.DEFINE_bool("uniform", False, "Ignore keep ratios saved by a DSA run; start from a uniform allocation.")
    flags.DEFINE_bool("per_layer", True, "Print every pruned layer's channels, not only the groups.")
    _cli.define_data_dir_flag()
    flags.mark_flags_as_required(["experiment", "model_dir", "flops_ratio", "out"])


def starting_alphas(model_dir: str, groups: list, uniform: bool):
    """(alpha, source): the DSA keep ratios of the checkpoint, or ones."""
    import numpy as np

    from official.training.dsa.method import keep_ratios_from_checkpoint

    if not uniform:
        try:
            alpha = keep_ratios_from_checkpoint(os.path.join(model_dir, "checkpoints"))
        except ValueError:
            alpha = None
        if alpha is not None:
            if len(alpha) != len(groups):
                raise app.UsageError(
                    f"--model_dir={model_dir}: the checkpoint holds {len(alpha)} DSA keep ratios, the model has "
                    f"{len(groups)} channel groups"
                )
            return np.asarray(alpha), "DSA keep ratios of the checkpoint"
    return np.ones(len(groups)), "uniform"


def layer_rows(info, pruned) -> list[dict]:
    """Per conv / depthwise / dense layer: input and output channels before and after pruning."""
    rows = []
    for o in info.ops:
        if o.kind not in ("conv", "depthwise", "dense"):
            continue
        kernel = pruned.get_layer(o.name.replace("/", "_")).kernel.shape
        after_in, after_out = (kernel[-2], kernel[-1]) if o.kind != "depthwise" else (kernel[2], kernel[2])
        rows.append({
            "name": o.name, "kind": o.kind, "group": info.space[o.name][0],
            "in_before": info.op(o.inputs[0]).channels, "out_before": o.channels,
            "in_after": int(after_in), "out_after": int(after_out),
        })
    return rows


def build_report(cfg_name, model_dir, step, target, source, model, pruned, info, alpha0, alpha, keep, before, after):
    return {
        "experiment": cfg_name,
        "model_dir": os.path.abspath(model_dir),
        "checkpoint_step": step,
        "flops_ratio_target": target,
        "allocation_start": source,
        "madds_before": before.total,
        "madds_after": after.total,
        "flops_ratio": after.total / before.total,
        "params_before": before.total_params,
        "params_after": after.total_params,
        "input_shape": list(before.input_shape),
        "groups": [
            {
                "index": g.index, "primal": g.primal, "members": list(g.members), "channels": g.channels,
                "kept": len(keep[g.index]), "alpha_start": float(a0), "alpha": float(a),
                "keep": [int(i) for i in keep[g.index]],
            }
            for g, a0, a in zip(info.groups, alpha0, alpha, strict=True)
        ],
        "layers": layer_rows(info, pruned),
    }


def print_tables(report: dict, per_layer: bool) -> None:
    print(f"{'group':>5s} {'primal':34s} {'members':>7s} {'channels':>9s} {'kept':>5s} {'alpha0':>7s} {'alpha':>7s}")
    for g in report["groups"]:
        print(f"{g['index']:>5d} {g['primal'][:34]:34s} {len(g['members']):>7d} {g['channels']:>9d} {g['kept']:>5d} "
              f"{g['alpha_start']:>7.3f} {g['alpha']:>7.3f}")
    if per_layer:
        print()
        print(f"{'layer':34s} {'kind':9s} {'group':>5s} {'in':>11s} {'out':>11s}")
        for r in report["layers"]:
            group = "-" if r["group"] is None else str(r["group"])
            print(f"{r['name'][:34]:34s} {r['kind']:9s} {group:>5s} {r['in_before']:>5d}->{r['in_after']:<5d} "
                  f"{r['out_before']:>5d}->{r['out_after']:<5d}")
    print()
    print(f"MAdds  {report['madds_before']:,d} -> {report['madds_after']:,d}  (ratio {report['flops_ratio']:.4f}, "
          f"target {report['flops_ratio_target']})")
    print(f"params {report['params_before']:,d} -> {report['params_after']:,d}")


def check_request(ratio: float, out: str) -> None:
    """The checks made before any model is built: a budget in (0, 1] and a new or empty --out."""
    if not 0.0 < ratio <= 1.0:
        raise app.UsageError(f"--flops_ratio={ratio}: expected a fraction in (0, 1]")
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        raise app.UsageError(f"--out={out}: exists and is not an empty folder (nothing was written)")


def main(argv: list[str]) -> int:
    del argv
    ratio, out = FLAGS.flops_ratio, FLAGS.out
    check_request(ratio, out)
    from official.core import config as config_lib
    from official.core import trainer
    from official.core.file_io import write_json
    from official.core.madds import count_madds
    from official.training.dsa.graph import analyse
    from official.training.dsa.prune import fit_budget, keep_from_ratios, prune_model
    from tools.profile import write_json as write_profile

    cfg = config_lib.resolve(FLAGS.experiment, FLAGS.config_file, FLAGS.params_override, FLAGS.data_dir)
    with _cli.naming_config_keys(cfg), _cli.quiet_stderr():
        model, _, step = trainer.restore_for_inference(cfg, FLAGS.model_dir)
    try:
        info = analyse(model)
    except ValueError as err:
        raise app.UsageError(f"--experiment={FLAGS.experiment}: {err}") from None
    if not info.groups:
        raise app.UsageError(f"--experiment={FLAGS.experiment}: model {model.name} has no prunable channel groups")
    alpha0, source = starting_alphas(FLAGS.model_dir, info.groups, FLAGS.uniform)
    input_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    try:
        alpha = fit_budget(model, info.groups, alpha0, ratio, input_shape)
    except ValueError as err:
        raise app.UsageError(f"--flops_ratio={ratio}: {err}") from None
    keep = keep_from_ratios(model, info.groups, alpha, getattr(cfg.training, "importance", "l1"))
    pruned = prune_model(model, info.groups, keep)
    before, after = count_madds(model), count_madds(pruned)
    report = build_report(FLAGS.experiment, FLAGS.model_dir, step, ratio, source, model, pruned, info,
                          alpha0, alpha, keep, before, after)

    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(os.path.abspath(out))}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        pruned.save(os.path.join(tmp, "pruned.keras"))
        write_json(report, os.path.join(tmp, "report.json"), indent=1)
        write_profile(before, os.path.join(tmp, "profile_before.json"), model.name)
        write_profile(after, os.path.join(tmp, "profile_after.json"), pruned.name)
        if os.path.isdir(out):
            os.rmdir(out)  # empty (checked above)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"pruned {FLAGS.experiment} (checkpoint step {step} of {FLAGS.model_dir}, start: {source})")
    print_tables(report, FLAGS.per_layer)
    keras_file = os.path.join(out, "pruned.keras")
    print(f"wrote {keras_file}, report.json, profile_before.json, profile_after.json")
    print("next: fine-tune it with the experiment's recipe, then evaluate / export (model.keras_file):\n"
          f"  python -m tools.train --experiment={FLAGS.experiment} --model_dir=FT "
          f"--params_override=training.method=standard,model.keras_file={keras_file}\n"
          f"  python -m tools.evaluate --experiment={FLAGS.experiment} --model_dir=FT --keras_file={keras_file}\n"
          f"  python -m tools.export --experiment={FLAGS.experiment} --model_dir=FT --keras_file={keras_file}")
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

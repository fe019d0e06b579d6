r"""ImageNet-C evaluation of a classifier checkpoint: clean top-1, top-1 per corruption and severity, CE,
mCE, relative mCE and mean corruption top-1 (all in percent) -> JSON and a table.

    python -m tools.corruption_eval --experiment=E --model_dir=runs/x --imagenet_c=/data/imagenet-c \
        --json=runs/x/imagenet_c.json
    python -m tools.corruption_eval --experiment=mobilenetv2_035_digits --model_dir=runs/digits \
        --imagenet_c=data/digits_c --corruptions=fog,gaussian_noise --severities=1,3

The newest checkpoint of --model_dir is restored as tools.evaluate does; clean top-1 is measured on the
experiment's eval_data. IMAGENET_C is ROOT/<corruption>/<1..5>/<class folder>/<image> (the release, or
tools.make_corrupted's output); labels are the index of each class folder's name in the experiment's
class list (the sorted class folders of its eval_data), and images get the eval transform with
crop_pct 1 (official/data/imagenet_c.py says why). Scores follow official/evaluation/corruption.py; an
mCE over fewer than the 15 corruptions, or fewer than 5 severities, is flagged in the JSON ("complete")
and the table. With --model_dir and no --json the JSON goes to MODEL_DIR/evaluate/imagenet_c_step_<N>.json.
"""

from __future__ import annotations

import os
import time

from absl import flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the flags; called only when the tool runs, so tools can be imported together."""
    flags.DEFINE_string("experiment", None, "Registered experiment name (gives the model, eval data and transform).")
    flags.DEFINE_string("model_dir", None, "Training folder: its newest checkpoint is evaluated.")
    flags.DEFINE_string("imagenet_c", None, "ImageNet-C root: ROOT/<corruption>/<severity 1..5>/<class>/<image>.")
    flags.DEFINE_string("json", None, "Results JSON path (default: MODEL_DIR/evaluate/imagenet_c_step_<N>.json).")
    flags.DEFINE_multi_string("config_file", [], "YAML overrides, as in tools.train.")
    flags.DEFINE_string("params_override", "", "Comma-separated overrides, as in tools.train.")
    flags.DEFINE_integer("batch_size", 0, "Evaluation batch size (0 = the experiment's trainer.global_batch_size).")
    flags.DEFINE_list("corruptions", [], "Comma-separated corruptions to score (default: every folder under --imagenet_c).")
    flags.DEFINE_list("severities", [], "Comma-separated severities 1..5 to score (default: every one present).")
    flags.DEFINE_string(
        "class_folder", None,
        "Image folder whose sorted class folders define the label indices (default: the experiment's eval_data, "
        "else train_data; needed when both are TFRecords).",
    )
    _cli.define_data_dir_flag()
    flags.mark_flags_as_required(["experiment", "model_dir", "imagenet_c"])


def _parse_severities(values: list[str]) -> list[int]:
    from official.core.errors import BadValueError

    try:
        severities = sorted({int(v) for v in values})
    except ValueError as err:
        raise BadValueError(f"--severities: expected integers 1..5, got {','.join(values)}") from err
    if any(not 1 <= s <= 5 for s in severities):
        raise BadValueError(f"--severities: each must be 1..5, got {','.join(values)}")
    return severities


def select_cells(root: str, corruptions: list[str], severities: list[int]) -> dict[str, list[int]]:
    """{corruption: [severities]} to score: the tree's listing, narrowed to the requested ones."""
    from official.data.imagenet_c import ImageNetCError, list_corruptions, severity_folder

    present = list_corruptions(root)
    missing = [c for c in corruptions if c not in present]
    if missing:
        raise ImageNetCError(f"{root}: no folder for {', '.join(missing)} (present: {', '.join(present)})")
    cells = {c: present[c] for c in (corruptions or present)}
    if severities:
        for c in cells:
            for s in severities:
                severity_folder(root, c, s)  # one-line error naming the missing folder
        cells = {c: list(severities) for c in cells}
    return cells


def experiment_classes(cfg, class_folder: str | None) -> list[str]:
    """The class names whose indices the model predicts: sorted class folders of the experiment's data."""
    from official.data import imagefolder

    if class_folder:
        return imagefolder.list_image_folder(class_folder)[2]
    for data in (cfg.eval_data, cfg.train_data):
        if data.source == "imagefolder" and data.path:
            return imagefolder.list_image_folder(data.path)[2]
    raise imagefolder.DatasetError(
        f"{cfg.eval_data.path}: the experiment's data is not an image folder, so its class names are unknown "
        "(pass --class_folder=an image folder with the training classes)"
    )


def print_table(results: dict) -> None:
    """Corruptions by group, top-1 per severity, mean, CE and relative CE; then the summary."""
    from official.evaluation.corruption import CORRUPTION_GROUPS

    group_of = {name: g for g, names in CORRUPTION_GROUPS.items() for name in names}
    severities = sorted({k for e in results["corruptions"].values() for k in e if k.isdigit()}, key=int)
    header = f"  {'group':<8} {'corruption':<18}" + "".join(f"{'s' + s:>7}" for s in severities)
    print(header + f"{'mean':>8}{'CE':>8}{'rel CE':>8}")
    for name, entry in results["corruptions"].items():
        cells = "".join(f"{entry[s]:7.2f}" if s in entry else f"{'-':>7}" for s in severities)
        ce = f"{entry['ce']:8.2f}{entry['relative_ce']:8.2f}" if "ce" in entry else f"{'-':>8}{'-':>8}"
        print(f"  {group_of.get(name, 'extra'):<8} {name:<18}{cells}{entry['mean']:8.2f}{ce}")
    print(f"  clean top-1            {results['clean_top1']:.2f}")
    print(f"  mean corruption top-1  {results['mean_corruption_top1']:.2f}")
    for key in ("mce", "relative_mce"):
        value = results[key]
        print(f"  {key:<22} {'-' if value is None else f'{value:.2f}'}")
    if not results["complete"]:
        print(f"  note: {results['scored_corruptions']} of 15 corruptions"
              f"{'' if results['all_severities'] else ', not all 5 severities'}: not comparable with published mCE")


def evaluate_corruptions(
    cfg,
    model_dir: str,
    imagenet_c: str,
    corruptions: list[str] | tuple[str, ...] = (),
    severities: list[int] | tuple[int, ...] = (),
    batch_size: int = 0,
    class_folder: str | None = None,
) -> dict:
    """Restores MODEL_DIR's newest checkpoint and scores it on cfg.eval_data and the ImageNet-C cells;
    returns the results dict (corruption.summarize plus examples, skips, step), printing progress."""
    import tensorflow as tf

    from official.core import trainer
    from official.core.errors import BadValueError
    from official.core.task import build_task
    from official.data import imagenet_c as reader
    from official.evaluation import corruption
    from official.tasks.image_classification import ImageClassificationTask

    batch = batch_size or cfg.trainer.global_batch_size
    if batch <= 0:
        raise BadValueError(f"--batch_size: must be positive, got {batch}")
    if not isinstance(build_task(cfg), ImageClassificationTask):  # before any data is listed or model built
        raise BadValueError(f"--experiment={cfg.experiment}: task {cfg.task.name!r} is not an image classification task")
    cells = select_cells(imagenet_c, list(corruptions), list(severities))
    class_names = experiment_classes(cfg, class_folder)
    model, task, step = trainer.restore_for_inference(cfg, model_dir)
    size = cfg.eval_data.image_size
    # One trace for every batch size (the last batch of each cell is smaller).
    predict = tf.function(
        lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)]
    )
    print(f"restored step {step} of {model_dir}; {len(class_names)} classes; "
          f"{sum(map(len, cells.values()))} corruption cells under {imagenet_c}", flush=True)
    clean = task.evaluate_predict_fn(predict, task.build_inputs(cfg.eval_data, False, batch))
    clean_top1 = 100.0 * clean["top1"]
    print(f"clean: top-1 {clean_top1:.2f}% ({int(clean['examples'])} images)", flush=True)
    top1: dict[str, dict[int, float]] = {}
    examples, skipped = 0, task.skipped_examples()
    for name, levels in cells.items():
        for severity in levels:
            t0 = time.time()
            ds, source = reader.corruption_dataset(imagenet_c, name, severity, cfg.eval_data, class_names, batch)
            metrics = task.evaluate_predict_fn(predict, ds)
            top1.setdefault(name, {})[severity] = 100.0 * metrics["top1"]
            examples += int(metrics["examples"])
            skipped += source.skipped.count
            print(f"{name} severity {severity}: top-1 {top1[name][severity]:.2f}% "
                  f"({int(metrics['examples'])} images, {time.time() - t0:.1f} s)", flush=True)
    results = corruption.summarize(clean_top1, top1)
    results.update(
        examples={"clean": int(clean["examples"]), "corrupted": examples},
        skipped_images=skipped,
        experiment=cfg.experiment,
        imagenet_c=imagenet_c,
        source=f"checkpoint step {step} of {model_dir}",
        step=step,
    )
    return results


def main(argv: list[str]) -> int:
    del argv
    from official.core import config as config_lib
    from official.core.file_io import write_json

    severities = _parse_severities(FLAGS.severities)
    cfg = config_lib.resolve(FLAGS.experiment, FLAGS.config_file, FLAGS.params_override, FLAGS.data_dir)
    start = time.time()
    with _cli.naming_config_keys(cfg), _cli.quiet_stderr():
        results = evaluate_corruptions(
            cfg, FLAGS.model_dir, FLAGS.imagenet_c, FLAGS.corruptions, severities, FLAGS.batch_size, FLAGS.class_folder
        )
    print(f"evaluated in {time.time() - start:.1f} s")
    print_table(results)
    out = FLAGS.json or os.path.join(FLAGS.model_dir, "evaluate", f"imagenet_c_step_{results['step']}.json")
    write_json(results, out, indent=2)
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

r"""COCO metrics of a results file against a ground-truth file, through pycocotools.

    python -m tools.coco_eval --gt instances_val2017.json --pred detections.json \
        [--iou_type bbox|segm|keypoints] [--json metrics.json] [--proposals --max_proposals 1000]

Prints pycocotools' summary table once (plus AR@N with --proposals, per-class AP with --per_class, and a
line on any -1: COCO's value where no ground-truth object falls in that area range); `--json` writes
the metrics as fractions (0-1):
{"AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"} for bbox/segm
(keypoints: AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl), plus "AR@N" keys with --proposals.
"""

from __future__ import annotations

from absl import flags

from official.evaluation.coco import IOU_TYPES, CocoEvaluator, CocoFormatError, load_results, write_json
from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the CLI flags (only when run as a program, so importing this module for its
    functions never clashes with other tools' flags of the same name)."""
    flags.DEFINE_string("gt", None, "Ground-truth COCO instances (or person keypoints) JSON.")
    flags.DEFINE_string(
        "pred",
        None,
        "COCO results JSON: a list of {image_id, category_id, bbox|segmentation|keypoints, score}.",
    )
    flags.DEFINE_enum("iou_type", "bbox", list(IOU_TYPES), "Which COCOeval protocol to run.")
    flags.DEFINE_string(
        "json", None, "Where to write the metrics as JSON (written via a temp name); optional."
    )
    flags.DEFINE_bool(
        "proposals", False, "Also report class-agnostic proposal recall AR@max_proposals (bbox)."
    )
    flags.DEFINE_integer("max_proposals", 1000, "Proposals per image for --proposals.")
    flags.DEFINE_bool(
        "validate_gt",
        True,
        "Skip malformed ground-truth annotations (logged with their id) as the readers do; false = raw pycocotools.",
    )
    flags.DEFINE_bool("per_class", False, "Add per-category AP under 'per_class_AP'.")
    flags.mark_flags_as_required(["gt", "pred"])


def run(
    gt: str,
    pred: str,
    iou_type: str = "bbox",
    proposals: bool = False,
    max_proposals: int = 1000,
    validate_gt: bool = True,
    per_class: bool = False,
) -> dict:
    """The metrics dict that main() prints and writes."""
    evaluator = CocoEvaluator(gt, validate=validate_gt)
    results = load_results(pred)
    try:
        metrics = evaluator.evaluate(results, iou_type=iou_type, per_class=per_class)
    except CocoFormatError as err:  # "results[3]: missing 'bbox'": name the file it came from
        raise CocoFormatError(f"{pred}: {err}") from err
    print(evaluator.last_summary, end="")
    if proposals:
        metrics.update(evaluator.proposal_recall(results, max_dets=max_proposals))
    return metrics


def main(argv: list[str]) -> None:
    del argv
    metrics = run(
        FLAGS.gt,
        FLAGS.pred,
        FLAGS.iou_type,
        FLAGS.proposals,
        FLAGS.max_proposals,
        FLAGS.validate_gt,
        FLAGS.per_class,
    )
    for key, value in metrics.items():
        if key.startswith("AR@"):
            print(f" Proposal recall (class-agnostic) {key:>10s} = {value:.3f}")
    for name, ap in metrics.get("per_class_AP", {}).items():
        print(f" AP of {name:<24s} = {ap:.3f}")
    absent = [k for k, v in metrics.items() if v == -1.0]
    if absent:
        print(f" -1 ({', '.join(absent)}): no ground-truth object in that area range "
              "(small < 32^2 px, medium 32^2-96^2, large > 96^2)")
    if FLAGS.json:
        write_json(metrics, FLAGS.json)
        print(f"wrote {FLAGS.json}")

if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

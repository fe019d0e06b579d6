r"""ActivityNet temporal detection mAP of a results file against a ground-truth file.

    python -m tools.temporal_eval --gt activity_net.v1-3.min.json --pred detections.json \
        [--subset validation] [--json OUT.json] [--blocked blocked_ids.json]

Prints mAP at tIoU 0.50:0.05:0.95 and their mean; `--json` writes, as fractions (0-1),
{"mAP": {"0.5": ..., "0.55": ..., ..., "0.95": ...}, "average_mAP": ...}. The numbers equal the official
ActivityNet `eval_detection.py` (benchmarks/activitynet_eval_parity.py checks it); see
official/evaluation/activitynet_detection.py for the definitions.
"""

from __future__ import annotations

from absl import flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the CLI flags (only when run as a program)."""
    flags.DEFINE_string("gt", None, "Ground truth: ActivityNet JSON with a 'database' of videos.")
    flags.DEFINE_string("pred", None, "Detections: JSON with 'results' {video_id: [{label, score, segment}]}.")
    flags.DEFINE_string("subset", "validation", "Which ground-truth subset to score ('subset' field).")
    flags.DEFINE_string("json", None, "Where to write the metrics as JSON (via a temp name); optional.")
    flags.DEFINE_string(
        "blocked", None, "Optional JSON list of video ids to leave out (the official server's blocked list)."
    )
    flags.mark_flags_as_required(["gt", "pred"])


def run(gt: str, pred: str, subset: str = "validation", blocked: str | None = None) -> dict:
    """The metrics dict that main() prints and writes."""
    from official.data import activitynet
    from official.evaluation.activitynet_detection import evaluate_detection

    ground_truth = activitynet.read_ground_truth(gt)
    predictions = activitynet.read_predictions(pred)
    blocked_ids = frozenset()
    if blocked:
        ids = activitynet.read_json(blocked)
        if not isinstance(ids, list):
            raise activitynet.ActivityNetFormatError(f"{blocked}: must be a JSON list of video ids")
        blocked_ids = frozenset(map(str, ids))
    result = evaluate_detection(ground_truth, predictions, subset=subset, blocked_videos=blocked_ids)
    if not result.classes:
        raise activitynet.ActivityNetFormatError(f"{gt}: no annotations in subset '{subset}' (field 'subset')")
    print(f"{len(result.classes)} classes in '{subset}'; {result.unknown_labels} predictions with other labels ignored")
    return result.as_dict()


def main(argv: list[str]) -> None:
    del argv
    metrics = run(FLAGS.gt, FLAGS.pred, FLAGS.subset, FLAGS.blocked)
    for key, value in metrics["mAP"].items():
        print(f" mAP@tIoU={key:<5s} = {value:.4f}")
    print(f" average mAP      = {metrics['average_mAP']:.4f}")
    if FLAGS.json:
        from official.core.file_io import write_json

        write_json(metrics, FLAGS.json)
        print(f"wrote {FLAGS.json}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

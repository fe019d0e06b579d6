r"""KITTI 3D object AP (2d, bev, 3d, aos; easy / moderate / hard) of result files against label_2 files.

    python -m tools.kitti_eval --gt_dir training/label_2 --pred_dir results/data \
        [--split ImageSets/val.txt] [--recall_points 40|11] [--iou_setting 0.7|0.5] [--json ap.json]

The numpy port of the C++ devkit (official/evaluation/kitti; parity in benchmarks/kitti_devkit_parity.py).
Result files are label_2 lines with a 16th field, the score. The frames are the split's ids (else every
file in --gt_dir); a frame without a result file has no detections. Prints a table and writes, with
--json, {"Car": {"2d": {"easy", "moderate", "hard"}, "bev": .., "3d": .., "aos": ..}, "Pedestrian": ..,
"Cyclist": ..} in AP points (0-100); null where the devkit would not evaluate (see api.py).
"""

from __future__ import annotations

from absl import flags

from official.core.file_io import write_json
from official.data.kitti_format import read_split
from official.evaluation.kitti import evaluate_kitti
from official.evaluation.kitti.protocol import CLASSES, DIFFICULTIES, IOU_SETTINGS, METRICS
from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the CLI flags (only when run as a program)."""
    flags.DEFINE_string("gt_dir", None, "Folder of ground-truth label_2 files (NNNNNN.txt, 15 fields a line).")
    flags.DEFINE_string(
        "pred_dir", None, "Folder of result files (NNNNNN.txt, label_2 lines plus a score); missing = no detections."
    )
    flags.DEFINE_string("split", None, "ImageSets file of frame ids to evaluate (default: every file in --gt_dir).")
    flags.DEFINE_enum(
        "recall_points", "40", ["40", "11"],
        "40: AP over recall 1/40..1 (R40, the benchmark since 2019); 11: recall 0, 0.1, .., 1 (R11).",
    )  # fmt: skip
    flags.DEFINE_enum(
        "iou_setting", "0.7", list(IOU_SETTINGS),
        "0.7: Car 0.7, Pedestrian/Cyclist 0.5 for every metric (the benchmark); 0.5: bev and 3d at "
        "Car 0.5, Pedestrian/Cyclist 0.25 (2d unchanged).",
    )  # fmt: skip
    flags.DEFINE_list("classes", list(CLASSES), "Classes to evaluate, among Car, Pedestrian, Cyclist.")
    flags.DEFINE_string("json", None, "Where to write the AP dict as JSON (written via a temp name); optional.")
    flags.mark_flags_as_required(["gt_dir", "pred_dir"])


def format_table(results: dict) -> str:
    """One line per class and metric: easy / moderate / hard."""
    lines = [f"{'class':<11s} {'metric':<6s} " + " ".join(f"{d:>9s}" for d in DIFFICULTIES)]
    for cls, metrics in results.items():
        for metric in METRICS:
            cells = ["      n/a" if v is None else f"{v:9.2f}" for v in metrics[metric].values()]
            lines.append(f"{cls:<11s} {metric:<6s} " + " ".join(cells))
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    del argv
    split_ids = read_split(FLAGS.split) if FLAGS.split else None
    points = int(FLAGS.recall_points)
    results = evaluate_kitti(FLAGS.gt_dir, FLAGS.pred_dir, split_ids, points, FLAGS.classes, FLAGS.iou_setting)
    print(f"KITTI AP R{points}, IoU setting {FLAGS.iou_setting}")
    print(format_table(results))
    if FLAGS.json:
        write_json(results, FLAGS.json, indent=1)
        print(f"wrote {FLAGS.json}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

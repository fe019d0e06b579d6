r"""TIDE error analysis of COCO-format detections: where the AP went, as dAP per error type.

    python -m tools.tide --gt=instances_val2017.json --pred=detections.json \
        [--mode=box|mask] [--pos_threshold=0.5] [--background_threshold=0.1] \
        [--json=tide.json] [--plot=tide.png] [--range] [--areas]

Prints the AP line and the Main Errors / Special Error tables (tidecv's layout); --json writes
{"ap50", "main", "special", "counts"} (plus "ap_range" / "area" when asked), dAP in AP points.
Bad input (a file that is not COCO JSON, an unknown image or category, a negative box, a score
not finite) stops with a message naming the file and the index of the entry; exit status 2.
"""

from __future__ import annotations

import json
import os
import tempfile
import time

from absl import flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the CLI flags (only when run as a program, so importing this module never clashes)."""
    flags.DEFINE_string("gt", None, "COCO instances JSON with the ground truth (images, annotations, categories).")
    flags.DEFINE_string("pred", None, "COCO results JSON: a list of {image_id, category_id, score, bbox or segmentation}.")
    flags.DEFINE_enum("mode", "box", ["box", "mask"], "Compare boxes (bbox) or instance masks (segmentation, RLE/polygons).")
    flags.DEFINE_float("pos_threshold", 0.5, "IoU at or above which a prediction is a true positive (foreground threshold).",
                       lower_bound=0.0, upper_bound=1.0)
    flags.DEFINE_float("background_threshold", 0.1, "IoU at or below which a false positive is a background error.",
                       lower_bound=0.0, upper_bound=1.0)
    flags.DEFINE_integer("max_dets", 100, "Highest-scoring predictions kept per image (COCO: 100).", lower_bound=1)
    flags.DEFINE_string("json", None, "Write the breakdown as JSON to this path (written atomically).")
    flags.DEFINE_string("plot", None, "Write the error-breakdown figure as PNG to this path (written atomically).")
    flags.DEFINE_bool("range", False, "Also report AP at IoU 0.50:0.05:0.95 (errors still come from --pos_threshold).")
    flags.DEFINE_bool("areas", False, "Also report AP and dAP for small / medium / large objects (COCO area ranges).")
    flags.mark_flags_as_required(["gt", "pred"])


def _write_json_atomic(obj: object, path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tide-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv: list[str]) -> int:
    del argv
    from official.evaluation.tide import tide_report, write_tide_plot
    from official.evaluation.tide.tide import TIDE, format_table

    start = time.perf_counter()
    print(f"tide | gt {FLAGS.gt} | predictions {FLAGS.pred} | mode {FLAGS.mode} | "
          f"fg IoU {FLAGS.pos_threshold} | bg IoU {FLAGS.background_threshold}", flush=True)
    result, tide = tide_report(
        FLAGS.gt, FLAGS.pred, mode=FLAGS.mode, pos_threshold=FLAGS.pos_threshold,
        background_threshold=FLAGS.background_threshold, max_dets=FLAGS.max_dets,
        thresholds=TIDE.COCO_THRESHOLDS if FLAGS.range else None, areas=FLAGS.areas)
    elapsed = time.perf_counter() - start
    print()
    print(tide.summary_text())
    if "area" in result:
        rows = [["Area", f"AP@{round(FLAGS.pos_threshold * 100)}"] + list(next(iter(result["area"].values()))["main"])]
        for name, r in result["area"].items():
            rows.append([name, f"{r['ap']:6.2f}"] + [f"{v:6.2f}" for v in r["main"].values()])
        print(format_table(rows, title="Per-area AP and main-error dAP"))
        print()
    counts = result["counts"]
    print(format_table([list(counts), [str(v) for v in counts.values()]], title="Counts"))
    print(f"\nevaluated {counts['Predictions']} predictions against {counts['GroundTruth']} objects in {elapsed:.2f} s")
    if FLAGS.json:
        _write_json_atomic(result, FLAGS.json)
        print(f"wrote {FLAGS.json}")
    if FLAGS.plot:
        name = os.path.splitext(os.path.basename(FLAGS.pred))[0]
        write_tide_plot(result, FLAGS.plot, title=f"{name} ({FLAGS.mode}, IoU {FLAGS.pos_threshold:g})")
        print(f"wrote {FLAGS.plot}")
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

"""TIDE speed on a COCO-val-sized input: this package against tidecv 1.0.1, in one process.

    python -m benchmarks.tide_speed [--images=5000] [--seed=0] [--out=benchmarks/results/tide_speed.json]

Builds a synthetic COCO val-like input (5,000 images, ~36k objects of 80 classes with 1% crowd,
100 box detections per image = 500k), writes it as COCO JSON files, then times, end to end from those
files, the single-threshold breakdown (AP@50, six main dAP, two special dAP) of
  ours:   official.evaluation.tide.tide_breakdown(gt_path, pred_path)
  tidecv: datasets.COCO + datasets.COCOResult + TIDE.evaluate + get_main_errors + get_special_errors
and checks that both give the same numbers. tidecv takes minutes here; that is why this is a benchmark
and not a test. Wall time and process CPU time are both recorded (the CPU may be shared).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import sys
import tempfile
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("images", 5000, "Number of synthetic images (COCO val2017 has 5,000).")
flags.DEFINE_integer("dets_per_image", 100, "Detections per image (COCO's maxDets).")
flags.DEFINE_integer("seed", 0, "Seed of the synthetic input.")
flags.DEFINE_string("out", "benchmarks/results/tide_speed.json", "Where to write the results JSON.")
flags.DEFINE_bool("reference", True, "Also time tidecv (set false to time only this package).")
flags.DEFINE_bool("range", True, "Also time this package's evaluate_range over the 10 COCO thresholds.")


class Timer:
    """Wall and CPU seconds of a `with` block."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _write_json_atomic(obj: object, path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tide_speed-", suffix=".json", dir=directory)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def run_reference(gt_path: str, pred_path: str) -> tuple[dict, dict[str, Timer]]:
    """tidecv end to end from the JSON files; returns its numbers and the time of each phase."""
    from tidecv import TIDE, datasets

    phases = {}
    with contextlib.redirect_stdout(io.StringIO()):
        with Timer() as phases["load"]:
            gt = datasets.COCO(gt_path)
            preds = datasets.COCOResult(pred_path)
        with Timer() as phases["evaluate"]:
            tide = TIDE()
            run = tide.evaluate(gt, preds, mode=TIDE.BOX)
            main = tide.get_main_errors()[preds.name]
            special = tide.get_special_errors()[preds.name]
    return {"ap50": run.ap, "main": main, "special": special}, phases


def run_ours_phases(gt_path: str, pred_path: str) -> dict[str, Timer]:
    """The body of `tide_breakdown`, timed by phase (load + validate JSON, then evaluate + errors)."""
    from official.evaluation.tide import TIDE
    from official.evaluation.tide.coco_io import CocoGroundTruth, load_predictions
    from official.evaluation.tide.tide import run_result

    phases = {}
    with Timer() as phases["load"]:
        truth = CocoGroundTruth(gt_path)
        preds = load_predictions(pred_path, truth)
    with Timer() as phases["evaluate"]:
        run_result(TIDE().evaluate(truth.data, preds))
    return phases


def main(argv: list[str]) -> int:
    del argv
    import numpy as np

    from official.evaluation.tide import TIDE, tide_breakdown
    from official.evaluation.tide.coco_io import CocoGroundTruth, load_predictions
    from official.evaluation.tide.synthetic import coco_like

    with tempfile.TemporaryDirectory(prefix="tide_speed_") as work:
        os.environ.setdefault("TIDE_PATH", os.path.join(work, "tidecv_home"))  # tidecv's Plotter makes this dir
        print(f"building the synthetic input ({FLAGS.images} images, {FLAGS.dets_per_image} dets/image) ...", flush=True)
        gt, preds = coco_like(FLAGS.seed, n_images=FLAGS.images, dets_per_image=FLAGS.dets_per_image)
        gt_path, pred_path = os.path.join(work, "gt.json"), os.path.join(work, "pred.json")
        for obj, path in ((gt, gt_path), (preds, pred_path)):
            with open(path, "w") as f:
                json.dump(obj, f)
        sizes = {"images": len(gt["images"]), "annotations": len(gt["annotations"]),
                 "crowd": sum(a["iscrowd"] for a in gt["annotations"]), "categories": len(gt["categories"]),
                 "predictions": len(preds)}
        del gt, preds
        print(f"input: {sizes}", flush=True)

        with Timer() as t_ours:
            ours = tide_breakdown(gt_path, pred_path, mode="box")
        print(f"ours   : {t_ours.wall:8.2f} s wall  {t_ours.cpu:8.2f} s cpu  AP50 {ours['ap50']:.4f}", flush=True)
        ours_phases = run_ours_phases(gt_path, pred_path)
        print("ours phases: " + ", ".join(f"{k} {t.wall:.2f} s" for k, t in ours_phases.items()), flush=True)

        t_range = None
        if FLAGS.range:
            with Timer() as t_range:
                truth = CocoGroundTruth(gt_path)
                tide = TIDE()
                runs = tide.evaluate_range(truth.data, load_predictions(pred_path, truth))
                tide.get_all_errors()
            ap_range = float(np.mean([r.ap for r in runs]))
            print(f"ours evaluate_range (10 thresholds): {t_range.wall:8.2f} s wall  AP@[50:95] {ap_range:.4f}", flush=True)

        ref, t_ref, max_diff, ref_phases = None, None, None, {}
        if FLAGS.reference:
            import tidecv  # noqa: F401  (imported before timing, like ours: seaborn/pandas/cv2 take seconds)

            print("tidecv : running (minutes) ...", flush=True)
            with Timer() as t_ref:
                ref, ref_phases = run_reference(gt_path, pred_path)
            diffs = [abs(ours["ap50"] - ref["ap50"])]
            diffs += [abs(ours["main"][k] - ref["main"][k]) for k in ours["main"]]
            diffs += [abs(ours["special"][k] - ref["special"][k]) for k in ours["special"]]
            max_diff = max(diffs)
            print(f"tidecv : {t_ref.wall:8.2f} s wall  {t_ref.cpu:8.2f} s cpu  AP50 {ref['ap50']:.4f}", flush=True)

    rows = [("ours (tide_breakdown)", t_ours, ours_phases)] + ([("tidecv 1.0.1", t_ref, ref_phases)] if t_ref else [])
    print("\n| implementation | end to end, wall s | cpu s | load JSON, wall s | evaluate + errors, wall s |")
    print("|---|---|---|---|---|")
    for name, t, ph in rows:
        print(f"| {name} | {t.wall:.2f} | {t.cpu:.2f} | {ph['load'].wall:.2f} | {ph['evaluate'].wall:.2f} |")
    result = {
        "command": " ".join(["python -m benchmarks.tide_speed", *sys.argv[1:]]),
        "input": sizes,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
                    "platform": platform.platform()},
        "ours": {"wall_s": t_ours.wall, "cpu_s": t_ours.cpu, "result": ours,
                 "phases_wall_s": {k: t.wall for k, t in ours_phases.items()}},
    }
    if t_range is not None:
        result["ours_evaluate_range"] = {"wall_s": t_range.wall, "cpu_s": t_range.cpu, "ap_50_95": ap_range}
    if t_ref is not None:
        import tidecv

        result["tidecv"] = {"version": tidecv.__version__, "wall_s": t_ref.wall, "cpu_s": t_ref.cpu, "result": ref,
                            "phases_wall_s": {k: t.wall for k, t in ref_phases.items()}}
        result["speedup_wall"] = t_ref.wall / t_ours.wall
        result["speedup_cpu"] = t_ref.cpu / t_ours.cpu
        result["speedup_evaluate_wall"] = ref_phases["evaluate"].wall / ours_phases["evaluate"].wall
        result["max_abs_diff"] = max_diff
        print(f"\nspeed-up: {result['speedup_wall']:.1f}x wall, {result['speedup_cpu']:.1f}x cpu end to end, "
              f"{result['speedup_evaluate_wall']:.1f}x on evaluate + errors; "
              f"max |ours - tidecv| over AP and 8 dAP = {max_diff:.2e}")
    _write_json_atomic(result, FLAGS.out)
    print(f"wrote {FLAGS.out}")
    return 0


if __name__ == "__main__":
    app.run(main)

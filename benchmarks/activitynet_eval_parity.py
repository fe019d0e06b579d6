"""ActivityNet detection mAP of official/evaluation/activitynet_detection.py against the official
`Evaluation/eval_detection.py` (activitynet/ActivityNet), on random and edge-case files.

    python benchmarks/activitynet_eval_parity.py --reference DIR [--out benchmarks/results/activitynet_eval_parity.json]
    (DIR holds the official eval_detection.py and utils.py, copied from the ActivityNet repo outside this
     repository, e.g. /tmp/anet_ref; they are loaded from there and never committed.)

The official files are Python 2. They are loaded with these mechanical changes only, none of which
touches a number: `print x` -> `print(x)`, `.iteritems()` -> `.items()`, `np.float` -> `float`
(removed in NumPy 1.24), `import urllib2` dropped (only the blocked-video server call uses it; the
blocked list is passed in by replacing `get_blocked_videos`), and joblib's `Parallel(n_jobs=#classes)`
run with n_jobs=1 (same calls, one process). Both sides read the same JSON files through the CLI
(`tools.temporal_eval.run`) and `ANETdetection(...).evaluate()`; every tIoU's mAP and the average mAP
must agree to 1e-6.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import time
import types

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

TOLERANCE = 1e-6


def load_reference(folder: str) -> types.ModuleType:
    """The official eval_detection module, ported to Python 3 as the docstring lists."""
    def port(text: str) -> str:
        text = text.replace("import urllib2\n", "")
        text = text.replace(".iteritems()", ".items()").replace("np.float)", "float)")
        text = text.replace("Parallel(n_jobs=len(self.activity_index))", "Parallel(n_jobs=1)")
        return re.sub(r"^(\s*)print (.*)$", r"\1print(\2)", text, flags=re.M)

    modules = {}
    for name in ("utils", "eval_detection"):
        with open(os.path.join(folder, f"{name}.py")) as f:
            source = port(f.read())
        module = types.ModuleType(name)
        module.__file__ = os.path.join(folder, f"{name}.py")
        sys.modules[name] = module
        exec(compile(source, module.__file__, "exec"), module.__dict__)
        modules[name] = module
    return modules["eval_detection"]


def random_case(rng: np.random.Generator, videos: int = 30, classes: int = 5, ties: bool = False,
                duplicates: bool = False, other_subset: bool = True, stray_videos: bool = True) -> tuple[dict, dict]:
    """Ground truth + predictions; predictions near and far from the ground truth, random scores."""
    labels = [f"class_{c}" for c in range(classes)]
    database, results = {}, {}
    for v in range(videos):
        vid = f"vid{v:03d}"
        duration = float(rng.uniform(20, 200))
        anns = []
        for _ in range(int(rng.integers(0, 4))):
            s = float(rng.uniform(0, duration * 0.8))
            e = float(min(duration, s + rng.uniform(1, duration * 0.5)))
            anns.append({"segment": [s, e], "label": labels[int(rng.integers(classes))]})
        subset = "training" if (other_subset and rng.random() < 0.15) else "validation"
        database[vid] = {"subset": subset, "duration": duration, "annotations": anns}
        preds = []
        for ann in anns:  # jittered copies of the ground truth
            for _ in range(int(rng.integers(0, 4))):
                s, e = ann["segment"]
                j = rng.normal(0, 0.15 * (e - s), 2)
                label = ann["label"] if rng.random() < 0.8 else labels[int(rng.integers(classes))]
                preds.append({"label": label, "score": float(rng.random()), "segment": [s + j[0], e + j[1]]})
        for _ in range(int(rng.integers(0, 6))):  # background
            s = float(rng.uniform(0, duration))
            preds.append({"label": labels[int(rng.integers(classes))], "score": float(rng.random()),
                          "segment": [s, s + float(rng.uniform(0.5, 30))]})
        if duplicates and preds:
            preds += [dict(p) for p in preds[: max(1, len(preds) // 3)]]
        if ties:
            for p in preds:
                p["score"] = round(p["score"], 1)
        results[vid] = preds
    if stray_videos:
        results["not_in_gt"] = [{"label": labels[0], "score": 0.99, "segment": [1.0, 5.0]}]
    return ({"version": "VERSION 1.3", "taxonomy": [], "database": database},
            {"version": "VERSION 1.3", "external_data": {}, "results": results})


def edge_cases() -> dict[str, tuple[dict, dict, list[str]]]:
    """Hand-made files: exact-threshold tIoU, a class without predictions, zero-length segments."""
    def gt(db):
        return {"version": "1.3", "taxonomy": [], "database": db}

    def pred(res):
        return {"version": "1.3", "external_data": {}, "results": res}

    cases = {}
    # tIoU exactly 0.5 and 0.75 against [0, 10]: [0, 5] (0.5), [0, 7.5] (0.75), [2.5, 10] (0.75)
    cases["exact_thresholds"] = (
        gt({"a": {"subset": "validation", "duration": 20, "annotations": [
            {"segment": [0, 10], "label": "x"}, {"segment": [12, 16], "label": "x"}]}}),
        pred({"a": [{"label": "x", "score": 0.9, "segment": [0, 5]},
                    {"label": "x", "score": 0.8, "segment": [0, 7.5]},
                    {"label": "x", "score": 0.7, "segment": [2.5, 10]},
                    {"label": "x", "score": 0.6, "segment": [12, 15]}]}), [])
    cases["class_without_predictions"] = (
        gt({"a": {"subset": "validation", "duration": 20, "annotations": [
            {"segment": [0, 10], "label": "x"}, {"segment": [2, 4], "label": "y"}]}}),
        pred({"a": [{"label": "x", "score": 0.9, "segment": [1, 10]}]}), [])
    cases["duplicates_and_equal_scores"] = (
        gt({"a": {"subset": "validation", "duration": 20, "annotations": [
            {"segment": [0, 10], "label": "x"}, {"segment": [1, 9], "label": "x"}]},
            "b": {"subset": "validation", "duration": 20, "annotations": [{"segment": [5, 6], "label": "x"}]}}),
        pred({"a": [{"label": "x", "score": 0.5, "segment": [0, 10]}] * 3
                   + [{"label": "x", "score": 0.5, "segment": [1, 9]}],
              "b": [{"label": "x", "score": 0.5, "segment": [5, 6]}, {"label": "x", "score": 0.5, "segment": [0, 1]}]}),
        [])
    cases["zero_length_segments"] = (
        gt({"a": {"subset": "validation", "duration": 20, "annotations": [
            {"segment": [3, 3], "label": "x"}, {"segment": [5, 8], "label": "x"}]}}),
        pred({"a": [{"label": "x", "score": 0.9, "segment": [3, 3]},
                    {"label": "x", "score": 0.8, "segment": [5, 5]},
                    {"label": "x", "score": 0.7, "segment": [5, 8]}]}), [])
    cases["blocked_videos"] = (
        gt({"a": {"subset": "validation", "duration": 20, "annotations": [{"segment": [0, 10], "label": "x"}]},
            "b": {"subset": "validation", "duration": 20, "annotations": [{"segment": [0, 10], "label": "x"}]}}),
        pred({"a": [{"label": "x", "score": 0.9, "segment": [0, 9]}],
              "b": [{"label": "x", "score": 0.95, "segment": [15, 19]}]}), ["b"])
    return cases


def compare(reference: types.ModuleType, gt: dict, pred: dict, blocked: list[str], folder: str) -> dict:
    from tools import temporal_eval

    gt_path, pred_path = os.path.join(folder, "gt.json"), os.path.join(folder, "pred.json")
    with open(gt_path, "w") as f:
        json.dump(gt, f)
    with open(pred_path, "w") as f:
        json.dump(pred, f)
    blocked_path = None
    if blocked:
        blocked_path = os.path.join(folder, "blocked.json")
        with open(blocked_path, "w") as f:
            json.dump(blocked, f)
    sys.modules["eval_detection"].get_blocked_videos = lambda: list(blocked)
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        ref = reference.ANETdetection(gt_path, pred_path, check_status=bool(blocked), subset="validation")
        ref.evaluate()
        ours = temporal_eval.run(gt_path, pred_path, "validation", blocked_path)
    ref_map = [float(x) for x in ref.mAP]
    our_map = list(ours["mAP"].values())
    diff = max(abs(a - b) for a, b in zip(ref_map, our_map, strict=True))
    diff = max(diff, abs(float(ref.average_mAP) - ours["average_mAP"]))
    return {"official_mAP": ref_map, "ours_mAP": our_map, "official_average_mAP": float(ref.average_mAP),
            "ours_average_mAP": ours["average_mAP"], "max_abs_diff": diff,
            "predictions": sum(len(v) for v in pred["results"].values())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", default=os.environ.get("ANET_EVAL_PATH"),
                        help="folder with the official eval_detection.py and utils.py")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks/results/activitynet_eval_parity.json"),
                        help="where to write the results JSON")
    parser.add_argument("--seeds", type=int, default=20, help="random cases per setting")
    args = parser.parse_args()
    if not args.reference or not os.path.isfile(os.path.join(args.reference, "eval_detection.py")):
        print(f"error: --reference={args.reference}: no eval_detection.py there", file=sys.stderr)
        return 2
    reference = load_reference(args.reference)
    cases = {}
    settings = {"random": {}, "ties": {"ties": True}, "duplicates": {"duplicates": True},
                "many_videos": {"videos": 120, "classes": 12}}
    start = time.time()
    with tempfile.TemporaryDirectory() as folder:
        for name, kwargs in settings.items():
            for seed in range(args.seeds):
                gt, pred = random_case(np.random.default_rng(seed), **kwargs)
                cases[f"{name}_{seed}"] = compare(reference, gt, pred, [], folder)
        for name, (gt, pred, blocked) in edge_cases().items():
            cases[name] = compare(reference, gt, pred, blocked, folder)
    worst = max(c["max_abs_diff"] for c in cases.values())
    out = {
        "reference": "activitynet/ActivityNet Evaluation/eval_detection.py + utils.py (ported as the script says)",
        "tolerance": TOLERANCE, "cases": len(cases), "worst_abs_diff": worst, "passed": worst <= TOLERANCE,
        "seconds": round(time.time() - start, 1), "results": cases,
    }
    from official.core.file_io import write_json

    write_json(out, args.out, indent=1)
    print(f"{len(cases)} cases, worst |official - ours| = {worst:.3g} -> {'PASS' if worst <= TOLERANCE else 'FAIL'}; wrote {args.out}")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())

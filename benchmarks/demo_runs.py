"""Runs `make demo` several times and records what each run printed: the three val top-1 and the time.

    python benchmarks/demo_runs.py [--runs 3] [--experiment mobilenext_035_digits] [--out PATH]

The demo is deterministic (runtime.deterministic, fixed seed and thread counts in the digits recipe), so
every run on one machine should print the same accuracies; the record shows whether it did, with a
digest of the final checkpoint's variables and of the int8 TFLite file. Wall times depend on what else
the machine runs: the load average before and after each run is kept beside them.
Results: benchmarks/results/demo_runs.json (one key per experiment, replaced when measured again).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import platform
import re
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _top1(path: str) -> float:
    with open(path, encoding="utf-8") as f:
        return json.load(f)["top1"]


def _sha256(paths: list[str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:16]


def run_once(experiment: str) -> dict:
    run_dir, export_dir = os.path.join("runs", experiment), "exports"
    before = _loadavg()
    start = time.time()
    proc = subprocess.run(["make", "demo", f"EXPERIMENT={experiment}"], cwd=REPO, capture_output=True, text=True)
    elapsed = time.time() - start
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"make demo failed (exit {proc.returncode}):\n{out[-3000:]}")
    wall = re.search(r"demo wall time: (\d+) s", out)
    trained = re.search(r"trained (\d+) steps in ([\d.]+) s", out)
    return {
        "keras_top1": _top1(os.path.join(REPO, run_dir, "eval_results.json")),
        "saved_model_top1": _top1(os.path.join(REPO, run_dir, "demo", "saved_model.json")),
        "tflite_int8_top1": _top1(os.path.join(REPO, run_dir, "demo", "tflite_int8.json")),
        "demo_wall_s": int(wall.group(1)) if wall else None,
        "make_wall_s": round(elapsed, 1),
        "train_steps": int(trained.group(1)) if trained else None,
        "train_s": float(trained.group(2)) if trained else None,
        "checkpoint_sha256": _sha256(glob.glob(os.path.join(REPO, run_dir, "checkpoints", "ckpt-*.data-*"))[-1:]),
        "tflite_int8_sha256": _sha256([os.path.join(REPO, export_dir, "tflite", f"{experiment}_int8.tflite")]),
        "load_average_1_5_15": {"before": before, "after": _loadavg()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--experiment", default="mobilenext_035_digits")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "demo_runs.json"))
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           capture_output=True, text=True).stdout.split("\n")
    runs = []
    for i in range(args.runs):
        runs.append(run_once(args.experiment))
        print(f"run {i + 1}: {json.dumps(runs[-1])}", flush=True)
    keys = ("keras_top1", "saved_model_top1", "tflite_int8_top1", "checkpoint_sha256", "tflite_int8_sha256")
    record = {
        "command": f"make demo EXPERIMENT={args.experiment}",
        "recorded_by": f"python benchmarks/demo_runs.py --runs {args.runs} --experiment {args.experiment}",
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "git_commit": commit,
        "tracked_files_modified": sorted(line[3:] for line in dirty if line.strip()),
        "machine": {
            "cpu": next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), ""),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "shared": "other agents' jobs may run at the same time; see each run's load average",
        },
        "identical_across_runs": {k: len({r[k] for r in runs}) == 1 for k in keys},
        "runs": runs,
    }
    payload = {}
    if os.path.exists(args.out):
        with open(args.out, encoding="utf-8") as f:
            payload = json.load(f)
    payload[args.experiment] = record
    tmp = f"{args.out}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, args.out)
    print(f"written {args.out}")


if __name__ == "__main__":
    main()

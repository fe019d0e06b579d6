"""Times the test suite as CI runs it and records where the time goes, per test file and per test.

    python -m benchmarks.ci_time --out benchmarks/results/ci_time.json -- -n 2 --dist loadfile -m "not benchmark"
    make ci-time        # the same with make test's arguments

The budget it checks (METHOD_CONTRACT item 11, Developers' guide): the whole suite under 50 minutes on
2 cores (CI has 90), each method's tests at most 45 s. Per-file seconds add up the tests' own call,
setup and teardown times from pytest's JUnit XML (with two workers the wall time is about half their sum).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

SUITE_BUDGET_S = 50 * 60


def per_test_seconds(junit_path: str) -> dict[str, float]:
    """'tests/x/test_y.py::test_z' -> seconds, from pytest's JUnit XML."""
    out: dict[str, float] = {}
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        out[f"{module}.py::{case.get('name')}"] = float(case.get("time") or 0.0)
    return out


def git_commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/ci_time.json", help="JSON file to write (via a temp name).")
    parser.add_argument("pytest_args", nargs="*", help="Arguments passed to pytest after `--`.")
    args = parser.parse_args()
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    with tempfile.TemporaryDirectory() as tmp:
        junit = os.path.join(tmp, "junit.xml")
        start = time.time()
        proc = subprocess.run([sys.executable, "-m", "pytest", *args.pytest_args, f"--junitxml={junit}"])
        wall = time.time() - start
        tests = per_test_seconds(junit) if os.path.exists(junit) else {}
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]
    files: dict[str, float] = collections.defaultdict(float)
    for name, seconds in tests.items():
        files[name.split("::")[0]] += seconds
    result = {
        "command": "python -m benchmarks.ci_time -- " + " ".join(args.pytest_args),
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "load_average_before": load_before,
        "load_average_after": load_after,
        "pytest_exit_code": proc.returncode,
        "tests": len(tests),
        "wall_s": round(wall, 1),
        "budget_s": SUITE_BUDGET_S,
        "within_budget": wall <= SUITE_BUDGET_S,
        "per_file_s": {k: round(v, 1) for k, v in sorted(files.items(), key=lambda kv: -kv[1])},
        "slowest_tests_s": {k: round(v, 1) for k, v in sorted(tests.items(), key=lambda kv: -kv[1])[:25]},
    }
    tmp_out = f"{args.out}.tmp-{os.getpid()}"
    with open(tmp_out, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp_out, args.out)
    print(f"suite: {len(tests)} tests, {wall:.0f} s wall (budget {SUITE_BUDGET_S} s); written to {args.out}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())

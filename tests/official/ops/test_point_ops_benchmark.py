"""benchmarks/point_ops_cpu.py runs end to end at tiny sizes: kernel and composite give the same indices
and each is timed (the recorded figures come from its full-size run, benchmarks/results/point_ops_cpu.json)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.mark.benchmark
def test_point_ops_cpu_smoke():
    cmd = [sys.executable, "benchmarks/point_ops_cpu.py", "--points", "256", "--samples", "32", "--batches", "1,2",
           "--radius", "0.3", "--max_samples", "8", "--steps", "1", "--warmup", "0", "--no_write"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = re.findall(r"^(\w+) .*: kernel ([\d.]+) ms, composite ([\d.]+) ms .*same indices: (\w+)$", proc.stdout, re.M)
    assert [r[0] for r in rows] == ["farthest_point_sample", "farthest_point_sample", "ball_query"], proc.stdout
    assert all(float(k) > 0 and float(c) > 0 and same == "True" for _, k, c, same in rows), proc.stdout
    speedups = json.loads(proc.stdout.strip().splitlines()[-1])["speedups"]
    assert set(speedups) == {"farthest_point_sample_b1", "farthest_point_sample_b2", "ball_query_b1"}

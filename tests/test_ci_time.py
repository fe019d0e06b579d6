"""benchmarks.ci_time records a pytest run per file and per test (run on a two-test throwaway suite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_records_per_file_and_per_test_seconds(tmp_path):
    (tmp_path / "test_sleepy.py").write_text(
        "import time\n\ndef test_a():\n    time.sleep(0.3)\n\ndef test_b():\n    pass\n"
    )
    out = tmp_path / "ci.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.ci_time", "--out", str(out), "--", str(tmp_path), "-q", "-p", "no:cacheprovider"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["tests"] == 2 and result["pytest_exit_code"] == 0
    (name, seconds), = result["per_file_s"].items()
    assert name.endswith("test_sleepy.py") and 0.3 <= seconds < 5
    slowest = next(iter(result["slowest_tests_s"]))
    assert slowest.endswith("::test_a")

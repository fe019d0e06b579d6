"""`python -m tools.kitti_eval` as a user runs it: the JSON it writes, its table, and one-line user errors.

Three runs in parallel in a module fixture (no TensorFlow: about a second each).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from official.data.kitti_format import KittiObject, write_label_file

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | {"PYTHONPATH": REPO}
CAR = KittiObject("Car", 0.0, 0, -0.3, (100.0, 100.0, 200.0, 160.0), (1.5, 1.6, 3.9), (0.0, 1.6, 10.0), -0.3)


def _one_error_line(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-3000:]
    return lines[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{case: (CompletedProcess, paths)}: 3 frames with one Car each, predictions for 2 of them."""
    tmp = tmp_path_factory.mktemp("kitti")
    gt_dir, pred_dir, bad_dir = tmp / "label_2", tmp / "data", tmp / "bad"
    for folder in (gt_dir, pred_dir, bad_dir):
        folder.mkdir()
    for i in range(3):
        write_label_file(str(gt_dir / f"{i:06d}.txt"), [CAR])
    for i in range(2):
        write_label_file(str(pred_dir / f"{i:06d}.txt"), [dataclasses.replace(CAR, score=0.9)])
    (bad_dir / "000001.txt").write_text(CAR.to_line() + " 0.9\nCar 0.00 0 -0.3 100 100 200 160 1.5 1.6\n")
    split = tmp / "val.txt"
    split.write_text("000000\n000001\n")
    out = tmp / "ap.json"
    cases = {
        "ok": ["--gt_dir", str(gt_dir), "--pred_dir", str(pred_dir), "--recall_points", "11", "--json", str(out)],
        "split": ["--gt_dir", str(gt_dir), "--pred_dir", str(pred_dir), f"--split={split}", "--classes=Car"],
        "bad_line": ["--gt_dir", str(gt_dir), "--pred_dir", str(bad_dir)],
    }

    def call(args):
        return subprocess.run([sys.executable, "-m", "tools.kitti_eval", *args], cwd=REPO, env=ENV,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    with ThreadPoolExecutor(len(cases)) as pool:
        done = dict(zip(cases, pool.map(call, cases.values()), strict=True))
    return done, {"json": out}


def test_writes_the_ap_dict_and_a_table(runs):
    done, paths = runs
    proc = done["ok"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""
    results = json.loads(paths["json"].read_text())
    assert list(results) == ["Car", "Pedestrian", "Cyclist"]
    for metrics in results.values():
        assert list(metrics) == ["2d", "bev", "3d", "aos"]
        for values in metrics.values():
            assert list(values) == ["easy", "moderate", "hard"]
    # 3 Cars, 2 found (frame 2 has no result file): thresholds = the 2 TP scores, precision 1 at
    # entries 0 and 1 -> R11 counts entry 0 only: 100 / 11.
    assert results["Car"]["3d"]["moderate"] == pytest.approx(100 / 11)
    assert results["Pedestrian"]["2d"]["easy"] == 0.0
    assert "Car" in proc.stdout and "moderate" in proc.stdout and "wrote" in proc.stdout


def test_split_limits_the_frames(runs):
    done, _ = runs
    proc = done["split"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Pedestrian" not in proc.stdout and "Car" in proc.stdout


def test_bad_label_line_is_one_error_naming_file_and_line(runs):
    done, _ = runs
    line = _one_error_line(done["bad_line"])
    assert "000001.txt:2:" in line and "expected 16 fields" in line, line

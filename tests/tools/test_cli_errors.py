"""Every tool ends a user error with ONE stderr line `error: ...` naming the file or key, and status 2.

The tools run as a newcomer runs them (`python -m tools.X`, TF_CPP_MIN_LOG_LEVEL unset), all at once in
a module fixture: a TensorFlow tool takes ~5 s to start, so the wall time is about two of those on
2 CPU cores. No model is built: every case fails before that, or needs none (`tools.list --no_params`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | {"PYTHONPATH": REPO}


def _gt(path) -> str:
    """A valid COCO instances file: one 64x64 image with one box."""
    path.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 64}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 4, 20, 20], "area": 400, "iscrowd": 0}],
        "categories": [{"id": 1, "name": "box"}],
    }))
    return str(path)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{case: CompletedProcess} of all CLI runs, started in parallel."""
    tmp = tmp_path_factory.mktemp("cli")
    gt = _gt(tmp / "gt.json")
    broken = tmp / "broken.json"
    broken.write_text('[{"image_id": 1, "category_id": 1,')  # truncated: not JSON
    no_score = tmp / "no_score.json"
    no_score.write_text(json.dumps([{"image_id": 1, "category_id": 1, "bbox": [4, 4, 20, 20]}]))
    missing = str(tmp / "missing")
    cases = {
        # TensorFlow tools
        "train_missing_data": ["tools.train", "--experiment=mobilenetv2_035_digits", f"--model_dir={tmp / 'run'}",
                               f"--params_override=train_data.path={missing}/train"],
        "train_missing_kitti": ["tools.train", "--experiment=rtm3d_tiny_boxes", f"--model_dir={tmp / 'run3d'}",
                                f"--data_dir={missing}"],
        "export_bad_key": ["tools.export", "--experiment=mobilenetv2_035_digits", f"--model_dir={tmp / 'run'}",
                           "--params_override=trainer.epochz=3"],
        "evaluate_unknown_experiment": ["tools.evaluate", "--experiment=mobilenext_999_digits", f"--model_dir={missing}"],
        "list": ["tools.list", "--no_params", "--pattern=mobilenetv2_*"],
        # tools that never import TensorFlow (about a second each), and --help (exits before any import)
        "coco_eval_missing_gt": ["tools.coco_eval", f"--gt={missing}.json", f"--pred={no_score}"],
        "coco_eval_bad_result": ["tools.coco_eval", f"--gt={gt}", f"--pred={no_score}"],
        "tide_broken_json": ["tools.tide", f"--gt={gt}", f"--pred={broken}"],
        "tide_missing_flags": ["tools.tide"],
        "tide_bad_enum": ["tools.tide", f"--gt={gt}", f"--pred={no_score}", "--mode=polygon"],
        "check_demo_broken_json": ["tools.check_demo", f"--keras={broken}", f"--saved_model={broken}", f"--tflite={broken}"],
        "make_digits_stray_argument": ["tools.make_digits", f"--out={missing}", "digits"],
        "train_help": ["tools.train", "--help"],
    }

    def call(args):
        return subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=ENV, capture_output=True, text=True,
                              timeout=240)

    with ThreadPoolExecutor(len(cases)) as pool:
        done = dict(zip(cases, pool.map(call, cases.values()), strict=True))
    return done


def _one_error_line(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-3000:]
    return lines[0]


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("train_missing_data", ["train_data.path=", "missing/train", "image folder does not exist"]),
        ("train_missing_kitti", ["train_data.path=", "missing/kitti_boxes_near", "KITTI root folder not found"]),
        ("export_bad_key", ["trainer.epochz", "unknown key"]),
        ("evaluate_unknown_experiment", ["unknown experiment 'mobilenext_999_digits'"]),
        ("coco_eval_missing_gt", ["--gt=", "missing.json", "does not exist"]),
        ("coco_eval_bad_result", ["--pred=", "no_score.json", "results[0]: missing 'score'"]),
        ("tide_broken_json", ["--pred=", "broken.json", "not JSON"]),
        ("tide_missing_flags", ["missing required flags --gt, --pred"]),
        ("tide_bad_enum", ["--mode=polygon", "box|mask"]),
        ("check_demo_broken_json", ["--keras=", "broken.json"]),
        ("make_digits_stray_argument", ["unexpected arguments: digits"]),
    ],
)
def test_user_error_is_one_line_naming_the_file_or_key(runs, case, named):
    line = _one_error_line(runs[case])
    for part in named:
        assert part in line, line


def test_list_prints_nothing_on_stderr(runs):
    """No TensorFlow start-up lines (oneDNN, cuda drivers, absl::InitializeLog, cuInit) on a CPU machine."""
    proc = runs["list"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""
    assert "mobilenetv2_035_digits" in proc.stdout


def test_help_still_lists_every_flag(runs):
    proc = runs["train_help"]
    for flag in ("experiment", "model_dir", "params_override", "mode", "strategy", "verbose"):
        assert re.search(rf"--(\[no\])?{flag}\b", proc.stdout), proc.stdout

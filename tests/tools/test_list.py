"""`python -m tools.list`: reads the recorded table without Keras or TensorFlow; --pattern, --task, --json,
--markdown and their errors (each run ~0.1 s: no model is built)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from official.core import model_table

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _list(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.list", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def test_listing_imports_neither_keras_nor_tensorflow():
    code = ("import runpy, sys\nsys.argv = ['tools.list']\ntry:\n    runpy.run_module('tools.list', run_name='__main__')\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in ('keras', 'tensorflow', 'numpy', 'jax') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]", proc.stdout
    assert "cpn_hg104" in proc.stdout and "212,472,874" in proc.stdout


def test_task_and_pattern_select_models_and_experiments():
    proc = _list("--task=detection", "--pattern=cpn_hg*")
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ") and "name" not in line]
    assert names == ["cpn_hg104", "cpn_hg52", "cpn_hg104_coco", "cpn_hg52_coco"], proc.stdout
    assert "mobilenext" not in _list("--task=detection").stdout


def test_json_is_the_selected_table():
    proc = _list("--json", "--task=image_classification")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got == model_table.select(model_table.load(), task="image_classification")
    assert set(got["families"]) == {"MobileNetV2", "MobileNeXt", "ResNet", "EfficientNet", "CifarResNet", "BinaryResNet"}
    assert got["models"]["mobilenext_100"]["madds"] == 311_342_592  # the MobileNeXt card's count


def test_markdown_lists_every_variant_with_both_counts():
    proc = _list("--markdown")
    assert proc.returncode == 0, proc.stderr
    table = model_table.load()
    assert proc.stdout == model_table.markdown(table)
    for name, entry in table["models"].items():
        row = next(line for line in proc.stdout.splitlines() if f"| `{name}` |" in line)
        assert f"| {entry['trainable']:,} | {entry['total']:,} |" in row
    # the issue-24 review: the tiny CPN's 3-class experiment has its own counts
    assert "| `cpn_dla34tiny_shapes` | `cpn_dla34tiny` | detection | 3 classes, 64x64x3 | 398,598 | 401,798 |" in proc.stdout


def test_user_errors_are_one_line():
    for args, named in ((["--task=detecton"], "--task=detecton"), (["--markdown", "--json"], "--markdown")):
        proc = _list(*args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"error: {named}"), proc.stderr


def test_help_documents_every_flag():
    proc = _list("--help")
    for flag in ("pattern", "task", "markdown", "json", "recount", "no_params", "verbose"):
        assert f"--{flag}" in proc.stdout or f"--[no]{flag}" in proc.stdout, flag

"""tools.prune end to end (DSA, issue 12): a DSA checkpoint of dsa_resnet20_digits is pruned to half its
MAdds; the report's numbers are count_madds of the saved model; a missing checkpoint is one `error:` line
with nothing written to --out; the budget and --out checks run in-process. The CLI runs start in parallel
(a TensorFlow tool takes seconds to start)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | {"PYTHONPATH": REPO}
EXPERIMENT = "dsa_resnet20_digits"
THETAS = np.linspace(-1.0, 1.0, 10)  # ResNet-20 has 10 groups


def _checkpoint(model_dir: str) -> int:
    """A checkpoint as the trainer writes it for training.method dsa: the plain network + dsa_theta_<g>;
    returns the network's MAdds (tools.profile's count)."""
    import tensorflow as tf

    from official.core import config as config_lib
    from official.core.madds import count_madds
    from official.core.task import build_task
    from official.training.dsa.method import extra_names

    model = build_task(config_lib.resolve(EXPERIMENT)).build_model()
    extras = {extra_names(i)["theta"]: tf.Variable(float(t)) for i, t in enumerate(THETAS)}
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model, **extras),
                                         os.path.join(model_dir, "checkpoints"), max_to_keep=1)
    manager.save(checkpoint_number=7)
    return count_madds(model).total


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prune")
    run = str(tmp / "run")
    madds = _checkpoint(run)
    base = ["tools.prune", f"--experiment={EXPERIMENT}"]
    cases = {
        "ok": [*base, f"--model_dir={run}", "--flops_ratio=0.5", f"--out={tmp / 'out'}"],
        "no_checkpoint": [*base, f"--model_dir={tmp / 'missing'}", "--flops_ratio=0.5", f"--out={tmp / 'out_missing'}"],
        "help": ["tools.prune", "--helpfull"],
    }

    def go(args):
        return subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=ENV, capture_output=True, text=True,
                              timeout=300)

    with ThreadPoolExecutor(len(cases)) as pool:
        done = dict(zip(cases, pool.map(go, cases.values()), strict=True))
    return tmp, done, madds


def test_prune_writes_model_and_report(runs):
    import keras

    import official.training.dsa.prune  # noqa: F401  (registers ChannelPad for loading)
    from official.core.madds import count_madds

    tmp, done, madds = runs
    assert done["ok"].returncode == 0, done["ok"].stderr[-2000:]
    out = tmp / "out"
    assert sorted(os.listdir(out)) == ["profile_after.json", "profile_before.json", "pruned.keras", "report.json"]
    report = json.loads((out / "report.json").read_text())
    pruned = keras.saving.load_model(str(out / "pruned.keras"))
    after = count_madds(pruned).total
    assert report["madds_after"] == after == json.loads((out / "profile_after.json").read_text())["madds"]
    assert report["madds_before"] == madds == json.loads((out / "profile_before.json").read_text())["madds"]
    assert 0.495 <= after / report["madds_before"] <= 0.5
    assert report["allocation_start"] == "DSA keep ratios of the checkpoint"
    np.testing.assert_allclose([g["alpha_start"] for g in report["groups"]], 1 / (1 + np.exp(-THETAS)), rtol=1e-6)
    assert [g["kept"] for g in report["groups"]] == [len(g["keep"]) for g in report["groups"]]
    stem = next(r for r in report["layers"] if r["name"] == "resnet_stem_conv")
    assert stem["out_after"] == report["groups"][0]["kept"] // 4  # stage 1 holds 16 of the stream's 64 slots
    assert f"MAdds  {madds:,d} -> {after:,d}" in done["ok"].stdout and "resnet_layer3_0_2_conv" in done["ok"].stdout


def test_prune_user_errors(runs):
    """A missing checkpoint through the CLI: one `error:` line, status 2, nothing written."""
    tmp, done, _ = runs
    result = done["no_checkpoint"]
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "no checkpoint found" in lines[0], result.stderr[-1500:]
    assert not os.path.exists(tmp / "out_missing")
    assert not [n for n in os.listdir(tmp) if ".tmp-" in n]


@pytest.mark.parametrize("ratio, out, message", [
    (1.5, "new", "--flops_ratio=1.5: expected a fraction in (0, 1]"),
    (0.0, "new", "--flops_ratio=0.0: expected a fraction in (0, 1]"),
    (0.5, "full", "exists and is not an empty folder"),
])
def test_prune_request_checks(tmp_path, ratio, out, message):
    """The checks main() makes before building anything (a UsageError is _cli's one `error:` line)."""
    from absl import app

    from tools.prune import check_request

    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("keep me")
    with pytest.raises(app.UsageError, match=re.escape(message)):
        check_request(ratio, str(tmp_path / out))
    assert os.listdir(tmp_path / "full") == ["x.txt"] and not os.path.exists(tmp_path / "new")
    check_request(1.0, str(tmp_path / "new"))  # the full budget and a new folder are fine


def test_prune_help_documents_every_flag(runs):
    _, done, _ = runs
    text = done["help"].stdout + done["help"].stderr
    for flag in ("--experiment", "--model_dir", "--flops_ratio", "--out", "--params_override", "--[no]uniform",
                 "--[no]per_layer"):
        assert flag in text

"""tools.prune end to end (DSA, issue 12): a DSA checkpoint of dsa_resnet20_digits is pruned to half its
MAdds; the report's numbers are count_madds of the saved model; user errors are one `error:` line with
nothing written to --out. The runs start in parallel (a TensorFlow tool takes seconds to start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | {"PYTHONPATH": REPO}
EXPERIMENT = "dsa_resnet20_digits"
THETAS = np.linspace(-1.0, 1.0, 10)  # ResNet-20 has 10 groups


def _checkpoint(model_dir: str) -> None:
    """A checkpoint as the trainer writes it for training.method dsa: the plain network + dsa_theta_<g>."""
    import tensorflow as tf

    from official.core import config as config_lib
    from official.core.task import build_task
    from official.training.dsa.method import extra_names

    model = build_task(config_lib.resolve(EXPERIMENT)).build_model()
    extras = {extra_names(i)["theta"]: tf.Variable(float(t)) for i, t in enumerate(THETAS)}
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model, **extras),
                                         os.path.join(model_dir, "checkpoints"), max_to_keep=1)
    manager.save(checkpoint_number=7)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prune")
    run = str(tmp / "run")
    _checkpoint(run)
    full = tmp / "full"
    full.mkdir()
    (full / "x.txt").write_text("keep me")
    base = ["tools.prune", f"--experiment={EXPERIMENT}"]
    cases = {
        "ok": [*base, f"--model_dir={run}", "--flops_ratio=0.5", f"--out={tmp / 'out'}"],
        "ratio": [*base, f"--model_dir={run}", "--flops_ratio=1.5", f"--out={tmp / 'out_ratio'}"],
        "no_checkpoint": [*base, f"--model_dir={tmp / 'missing'}", "--flops_ratio=0.5", f"--out={tmp / 'out_missing'}"],
        "out_not_empty": [*base, f"--model_dir={run}", "--flops_ratio=0.5", f"--out={full}"],
        "help": ["tools.prune", "--helpfull"],
    }

    def go(args):
        return subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=ENV, capture_output=True, text=True,
                              timeout=300)

    with ThreadPoolExecutor(len(cases)) as pool:
        done = dict(zip(cases, pool.map(go, cases.values()), strict=True))
    return tmp, done


def test_prune_writes_model_and_report(runs):
    import keras

    import official.training.dsa.prune  # noqa: F401  (registers ChannelPad for loading)
    from official.core.madds import count_madds

    tmp, done = runs
    assert done["ok"].returncode == 0, done["ok"].stderr[-2000:]
    out = tmp / "out"
    assert sorted(os.listdir(out)) == ["profile_after.json", "profile_before.json", "pruned.keras", "report.json"]
    report = json.loads((out / "report.json").read_text())
    pruned = keras.saving.load_model(str(out / "pruned.keras"))
    after = count_madds(pruned).total
    assert report["madds_after"] == after == json.loads((out / "profile_after.json").read_text())["madds"]
    assert report["madds_before"] == 40_551_040  # ResNet-20 at 32 px (tools.profile --model resnet20_cifar)
    assert 0.495 <= after / report["madds_before"] <= 0.5
    assert report["allocation_start"] == "DSA keep ratios of the checkpoint"
    np.testing.assert_allclose([g["alpha_start"] for g in report["groups"]], 1 / (1 + np.exp(-THETAS)), rtol=1e-6)
    assert [g["kept"] for g in report["groups"]] == [len(g["keep"]) for g in report["groups"]]
    stem = next(r for r in report["layers"] if r["name"] == "resnet_stem_conv")
    assert stem["out_after"] == report["groups"][0]["kept"] // 4  # stage 1 holds 16 of the stream's 64 slots
    assert "MAdds  40,551,040 -> " in done["ok"].stdout and "resnet_layer3_0_2_conv" in done["ok"].stdout


@pytest.mark.parametrize("case, message", [
    ("ratio", "--flops_ratio=1.5: expected a fraction in (0, 1]"),
    ("no_checkpoint", "no checkpoint found"),
    ("out_not_empty", "exists and is not an empty folder"),
])
def test_prune_user_errors(runs, case, message):
    tmp, done = runs
    result = done[case]
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr[-1500:]
    assert not os.path.exists(tmp / "out_ratio") and not os.path.exists(tmp / "out_missing")
    assert os.listdir(tmp / "full") == ["x.txt"]
    assert not [n for n in os.listdir(tmp) if ".tmp-" in n]


def test_prune_help_documents_every_flag(runs):
    _, done = runs
    text = done["help"].stdout + done["help"].stderr
    for flag in ("--experiment", "--model_dir", "--flops_ratio", "--out", "--params_override", "--[no]uniform",
                 "--[no]per_layer"):
        assert flag in text

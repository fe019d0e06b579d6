"""tools.make_corrupted writes the ImageNet-C layout; tools.corruption_eval scores a restored checkpoint on
it, and its per-severity top-1 equals what the Keras model gives on the same JPEGs, computed here.

The checkpoint is mobilenetv2_035_digits (the registered digits experiment) in the trainer's format
(`CheckpointManager` of `tf.train.Checkpoint(model=...)`, read by trainer.restore_for_inference), written
here instead of by a few trainer steps: on 2 shared cores compiling MobileNetV2's train step takes ~35 s,
more than this whole file may (the slow-marked last test scores a checkpoint the trainer wrote in 2 steps). Its logits layer is fitted by least squares on two of the four
(corruption, severity) cells, so those score 100% with the right labels and the other two score little:
the numbers differ cell to cell, and a label or severity mix-up changes them (random weights would score
~10% everywhere, where a mix-up can hide). The tools run as users run them, in parallel subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from official.core import config as config_lib
from official.core import trainer
from official.core.task import build_task
from official.data.imagenet_c import ImageNetCError
from official.evaluation import corruption
from tools.corruption_eval import evaluate_corruptions, select_cells
from tools.make_corrupted import write_corrupted
from tools.make_digits import digits_arrays

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | {"PYTHONPATH": REPO}
EXPERIMENT = "mobilenetv2_035_digits"
CORRUPTED_CLASSES = ("2", "5", "7")  # a subset: labels must be 2, 5, 7 (the experiment's), not 0, 1, 2
CELLS = [("fog", 1), ("fog", 3), ("gaussian_noise", 1), ("gaussian_noise", 3)]
FITTED = [("fog", 1), ("gaussian_noise", 3)]
STEP = 7


def _write_digits(root: str, classes, per_class: int, offset: int) -> None:
    """Real digit scans (scikit-learn), 32x32 RGB PNGs in the image-folder layout."""
    images, labels = digits_arrays()
    for c in classes:
        os.makedirs(os.path.join(root, c))
        for i in np.flatnonzero(labels == int(c))[offset: offset + per_class]:
            img = Image.fromarray(images[i], mode="L").resize((32, 32), Image.BILINEAR).convert("RGB")
            img.save(os.path.join(root, c, f"{i:04d}.png"))


def _read_cell(root: str, name: str, severity: int, cfg) -> tuple[np.ndarray, np.ndarray]:
    """The cell's JPEGs decoded and normalised here (32 px images, crop_pct 1: no resize), labels = int(class)."""
    images, labels = [], []
    folder = os.path.join(root, name, str(severity))
    for cls in sorted(os.listdir(folder)):
        for f in sorted(os.listdir(os.path.join(folder, cls))):
            with open(os.path.join(folder, cls, f), "rb") as fh:
                pixels = tf.io.decode_jpeg(fh.read(), channels=3).numpy().astype(np.float32)
            assert pixels.shape == (32, 32, 3)
            images.append((pixels - np.float32(cfg.eval_data.mean)) / np.float32(cfg.eval_data.std))
            labels.append(int(cls))  # digits' class folders "0".."9" sort to their own index
    return np.stack(images), np.asarray(labels)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)


def _expected_top1(model, cells) -> dict[tuple[str, int], float]:
    return {c: 100.0 * float(np.mean(np.argmax(model(x, training=False), -1) == y)) for c, (x, y) in cells.items()}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """val (10 classes x 2 digits), src (classes 2, 5, 7 x 4 other digits) and its corrupted tree."""
    tmp = tmp_path_factory.mktemp("corruption_eval")
    val, src, tree = str(tmp / "val"), str(tmp / "src"), str(tmp / "digits_c")
    _write_digits(val, [str(c) for c in range(10)], per_class=2, offset=0)
    _write_digits(src, CORRUPTED_CLASSES, per_class=4, offset=10)
    counts = write_corrupted(src, tree, ["fog", "gaussian_noise"], [1, 3], seed=0)
    override = f"train_data.path={val},eval_data.path={val},trainer.global_batch_size=16"
    return dict(tmp=tmp, val=val, src=src, tree=tree, counts=counts, override=override)


@pytest.fixture(scope="module")
def setup(data):
    tmp, val, src, tree, counts, override = (data[k] for k in ("tmp", "val", "src", "tree", "counts", "override"))
    cfg = config_lib.resolve(EXPERIMENT, params_override=override)
    keras.utils.set_random_seed(0)  # the random trunk's features decide the preconditions below: fix them
    model = build_task(cfg).build_model()
    cells = {cell: _read_cell(tree, *cell, cfg) for cell in CELLS}
    # Least-squares logits layer: one-hot targets on the FITTED cells' features.
    logits = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][-1]
    features = keras.Model(model.inputs, logits.input)
    x = np.concatenate([cells[c][0] for c in FITTED])
    y = np.concatenate([cells[c][1] for c in FITTED])
    f = np.asarray(features([x], training=False), np.float64)
    f1 = np.concatenate([f, np.ones((len(f), 1))], axis=1)
    solution = np.linalg.lstsq(f1, 10.0 * np.eye(10)[y], rcond=None)[0]
    logits.kernel.assign(solution[:-1].astype(np.float32))
    logits.bias.assign(solution[-1].astype(np.float32))
    model_dir = str(tmp / "run")
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), os.path.join(model_dir, "checkpoints"), 1)
    manager.save(checkpoint_number=STEP)
    out = str(tmp / "results.json")
    # The CLI runs (TF start-up and all) while the expected numbers are computed here.
    cli = subprocess.Popen(
        [sys.executable, "-m", "tools.corruption_eval", f"--experiment={EXPERIMENT}", f"--model_dir={model_dir}",
         f"--params_override={override}", f"--imagenet_c={tree}", f"--json={out}", "--batch_size=5"],
        cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        unknown = _run("tools.make_corrupted", f"--src={src}", f"--out={tmp / 'x'}", "--corruptions=fogg")
        expected = _expected_top1(model, cells)
        clean_x, clean_y = [], []
        for cls in range(10):
            for f in sorted(os.listdir(os.path.join(val, str(cls)))):
                pixels = np.asarray(Image.open(os.path.join(val, str(cls), f)).convert("RGB"), np.float32)
                clean_x.append((pixels - np.float32(cfg.eval_data.mean)) / np.float32(cfg.eval_data.std))
                clean_y.append(cls)
        clean = np.argmax(model(np.stack(clean_x), training=False), -1)
        expected_clean = 100.0 * float(np.mean(clean == np.asarray(clean_y)))
        stdout, stderr = cli.communicate(timeout=300)
    finally:
        cli.kill()
    return dict(tree=tree, src=src, counts=counts, expected=expected, expected_clean=expected_clean, out=out,
                cli=(cli.returncode, stdout, stderr), unknown=unknown)


def test_make_corrupted_layout_and_determinism(data, tmp_path):
    tree = data["tree"]
    assert data["counts"] == {"fog/1": 12, "fog/3": 12, "gaussian_noise/1": 12, "gaussian_noise/3": 12}
    assert sorted(d for d in os.listdir(tree) if not d.startswith(".")) == ["fog", "gaussian_noise"]
    for name, severity in CELLS:
        folder = os.path.join(tree, name, str(severity))
        assert sorted(os.listdir(folder)) == list(CORRUPTED_CLASSES)
        for cls in CORRUPTED_CLASSES:
            files = sorted(os.listdir(os.path.join(folder, cls)))
            assert len(files) == 4 and all(f.endswith(".JPEG") for f in files)
            with Image.open(os.path.join(folder, cls, files[0])) as im:
                assert im.format == "JPEG" and im.size == (32, 32) and im.mode == "RGB"
    # Same seed, same bytes (one corruption, one severity: fast); a stronger severity moves pixels further.
    again = str(tmp_path / "again")
    write_corrupted(data["src"], again, ["gaussian_noise"], [3], max_per_class=1, seed=0)
    name = sorted(os.listdir(os.path.join(again, "gaussian_noise", "3", "2")))[0]
    with open(os.path.join(again, "gaussian_noise", "3", "2", name), "rb") as a, \
            open(os.path.join(tree, "gaussian_noise", "3", "2", name), "rb") as b:
        assert a.read() == b.read()
    source = np.asarray(Image.open(os.path.join(data["src"], "2", name.replace(".JPEG", ".png"))), np.float64)
    moved = [np.abs(np.asarray(Image.open(os.path.join(tree, "gaussian_noise", str(s), "2", name)), np.float64) - source).mean()
             for s in (1, 3)]
    assert 0 < moved[0] < moved[1]


def test_make_corrupted_rejects_small_images_and_unknown_names(setup, tmp_path):
    small = tmp_path / "small" / "a"
    small.mkdir(parents=True)
    Image.new("RGB", (16, 16)).save(small / "x.png")
    with pytest.raises(corruption.BadValueError, match=r"x\.png: 16x16 px; imagecorruptions needs sides of at least 32"):
        write_corrupted(str(tmp_path / "small"), str(tmp_path / "o"), ["fog"], [1])
    assert os.listdir(str(tmp_path / "small" / "a")) == ["x.png"]
    proc = setup["unknown"]
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("error: --corruptions: unknown fogg")


def test_corruption_eval_matches_the_keras_model(setup):
    returncode, stdout, stderr = setup["cli"]
    assert returncode == 0, stderr[-3000:]
    with open(setup["out"]) as f:
        results = json.load(f)
    expected = setup["expected"]
    # Precondition: the cells differ, so a severity or label mix-up cannot keep the numbers.
    assert expected[("fog", 1)] == expected[("gaussian_noise", 3)] == 100.0
    assert expected[("fog", 3)] < 100.0 and expected[("gaussian_noise", 1)] < 100.0
    for (name, severity), acc in expected.items():
        assert results["corruptions"][name][str(severity)] == pytest.approx(acc, abs=1e-9), (name, severity)
    assert results["clean_top1"] == pytest.approx(setup["expected_clean"], abs=1e-9)
    top1 = {name: {s: acc for (n, s), acc in expected.items() if n == name} for name in ("fog", "gaussian_noise")}
    want = corruption.summarize(setup["expected_clean"], top1)
    for key in ("mce", "relative_mce", "mean_corruption_top1"):
        assert results[key] == pytest.approx(want[key], abs=1e-9), key
    for name in ("fog", "gaussian_noise"):
        entry = results["corruptions"][name]
        assert entry["mean"] == pytest.approx((entry["1"] + entry["3"]) / 2)
        assert entry["ce"] == pytest.approx(100 * (1 - entry["mean"] / 100) / corruption.ALEXNET_ERRORS[name])
    assert results["examples"] == {"clean": 20, "corrupted": 48}
    assert results["step"] == STEP and results["skipped_images"] == 0
    assert results["complete"] is False and results["scored_corruptions"] == 2
    # Progress lines per cell, the table, and the flag that this is not a full benchmark.
    assert "fog severity 3: top-1" in stdout and "gaussian_noise severity 1: top-1" in stdout
    assert "2 of 15 corruptions, not all 5 severities" in stdout
    assert f"results written to {setup['out']}" in stdout


def test_select_cells_names_what_is_missing(data):
    tree = data["tree"]
    assert select_cells(tree, [], []) == {"fog": [1, 3], "gaussian_noise": [1, 3]}
    assert select_cells(tree, ["fog"], [3]) == {"fog": [3]}
    with pytest.raises(ImageNetCError, match=f"^{tree}: no folder for snow \\(present: fog, gaussian_noise\\)$"):
        select_cells(tree, ["snow"], [])
    with pytest.raises(ImageNetCError, match="fog/2: no such ImageNet-C folder"):
        select_cells(tree, ["fog"], [2])


@pytest.mark.slow  # ~40 s on 2 shared cores: compiling MobileNetV2's train step
def test_trainer_checkpoint_is_scored_like_the_keras_model(data):
    """The same evaluation on a checkpoint the trainer itself wrote (2 steps of mobilenetv2_035_digits)."""
    cfg = config_lib.resolve(
        EXPERIMENT,
        params_override=f"{data['override']},trainer.train_steps=2,trainer.steps_per_loop=2,runtime.jit_compile=false",
    )
    model_dir = str(data["tmp"] / "trained")
    trainer.run_experiment(cfg, model_dir, mode="train")
    results = evaluate_corruptions(cfg, model_dir, data["tree"], severities=[1, 3], batch_size=5)
    model, _, step = trainer.restore_for_inference(cfg, model_dir)
    assert results["step"] == step == 2
    expected = _expected_top1(model, {cell: _read_cell(data["tree"], *cell, cfg) for cell in CELLS})
    for (name, severity), acc in expected.items():
        assert results["corruptions"][name][str(severity)] == pytest.approx(acc, abs=1e-9), (name, severity)

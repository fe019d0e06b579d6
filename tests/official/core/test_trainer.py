"""The trainer: loss falls, resume after SIGKILL, mirrored == one device, multi-worker replicas agree."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distributed_worker.py")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", "CUDA_VISIBLE_DEVICES": ""}


def _digits_overrides(digits_dir: str) -> str:
    return f"train_data.path={digits_dir}/train,eval_data.path={digits_dir}/val"


def test_twenty_steps_lower_the_loss_on_a_fixed_batch(digits_dir):
    from official.core import config as config_lib
    from official.core import trainer
    from official.core.task import build_task

    cfg = config_lib.resolve("mobilenetv2_035_digits", params_override=_digits_overrides(digits_dir))
    task = build_task(cfg)
    plan = trainer.plan_run(cfg, task, replicas=1)
    model = trainer.build_compiled_model(cfg, task, plan, jit=False)
    images, labels = next(iter(task.build_inputs(cfg.train_data, True, 32)))
    losses = [float(model.train_on_batch(images, labels)[0]) for _ in range(20)]
    assert losses[-1] < 0.5 * losses[0], losses


def test_the_plan_runs_exactly_the_steps_asked_or_refuses():
    """An explicit train_steps is trained exactly (whole loops) or refused, naming both fields; a length in
    epochs rounds up to whole loops. (CI once trained 500 steps for train_steps=350, steps_per_loop=250.)"""
    from official.core import config as config_lib
    from official.core import trainer

    cfg = config_lib.resolve("mobilenetv2_035_digits", params_override="trainer.steps_per_epoch=100")
    config_lib.apply_overrides(cfg, "trainer.train_steps=350,trainer.steps_per_loop=175")
    plan = trainer.plan_run(cfg, None, replicas=1)
    assert (plan.total_steps, plan.num_loops, plan.steps_per_loop) == (350, 2, 175)
    config_lib.apply_overrides(cfg, "trainer.steps_per_loop=250")
    with pytest.raises(config_lib.ConfigError, match=r"trainer.train_steps: 350 .*steps_per_loop=250.*e\.g\. 50"):
        trainer.plan_run(cfg, None, replicas=1)
    config_lib.apply_overrides(cfg, "trainer.train_steps=0,trainer.epochs=3")  # 300 steps in epochs
    assert trainer.plan_run(cfg, None, replicas=1).total_steps == 500


def test_a_deterministic_digits_run_repeats_bit_for_bit(digits_dir, tmp_path, monkeypatch):
    """The demo recipe (runtime.deterministic) trained twice ends with the same weights (BN statistics
    included) and val metrics, bit for bit: seeded initializers, seeded file and example shuffles,
    stateless per-example augmentation seeds, an ordered tf.data map. The training runs use the tiny
    convnet in place of MobileNeXt (whose graph takes ~10 s to trace per run on 2 cores); MobileNeXt's
    own initial weights (one initializer instance per layer) are checked to follow the seed."""
    import dataclasses

    import keras

    from official.core import config as config_lib
    from official.core import trainer
    from official.core.task import build_task
    from tests import tiny_models

    cfg = config_lib.resolve("mobilenext_035_digits", params_override=_digits_overrides(digits_dir))
    assert cfg.runtime.deterministic and cfg.train_data.random_resized_crop

    def initial_weights(seed: int) -> list[np.ndarray]:
        keras.utils.set_random_seed(seed)
        return [np.asarray(w) for w in build_task(cfg).build_model().weights]

    first, again, other = initial_weights(0), initial_weights(0), initial_weights(1)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    kernels = [(a, b) for a, b in zip(first, other, strict=True) if a.ndim > 1]
    assert kernels and all(not np.array_equal(a, b) for a, b in kernels), "a kernel ignores the seed"

    tiny_models.registered(monkeypatch)
    tiny = dataclasses.replace(
        cfg,
        model=config_lib.model_config(tiny_models.NAME, batch_norm=True),
        trainer=dataclasses.replace(cfg.trainer, train_steps=20, steps_per_loop=10, global_batch_size=16),
    )
    runs = []
    for i in range(2):
        keras.backend.clear_session()
        results, model = trainer.run_experiment(tiny, str(tmp_path / f"run{i}"), mode="train_and_eval", return_model=True)
        assert results["step"] == 20
        runs.append((results["eval"], [np.asarray(w) for w in model.weights]))
    keras.backend.clear_session()  # layer-name counters back at zero for the next test
    assert runs[0][0] == runs[1][0]
    for i, (a, b) in enumerate(zip(runs[0][1], runs[1][1], strict=True)):
        np.testing.assert_array_equal(a, b, err_msg=f"weight {i} differs between the two runs")


def _latest_step(model_dir: str) -> int:
    names = os.listdir(os.path.join(model_dir, "checkpoints")) if os.path.isdir(os.path.join(model_dir, "checkpoints")) else []
    steps = [int(m.group(1)) for n in names if (m := re.match(r"ckpt-(\d+)\.index$", n))]
    return max(steps, default=0)


@pytest.mark.slow
def test_resume_after_sigkill_continues_at_the_checkpointed_step(digits_dir, tmp_path):
    model_dir = str(tmp_path / "run")
    cmd = [
        sys.executable, "-m", "tools.train", "--experiment=mobilenetv2_035_digits", f"--model_dir={model_dir}", "--mode=train",
        "--params_override=" + _digits_overrides(digits_dir)
        + ",trainer.train_steps=400,trainer.steps_per_loop=10,trainer.global_batch_size=16,train_data.cache=false",
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 240
    while _latest_step(model_dir) < 20 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = _latest_step(model_dir)
    assert 20 <= killed_at < 400, f"no checkpoint before the kill (latest {killed_at})"

    second = subprocess.run(
        [c.replace("train_steps=400", "train_steps=60") if c.startswith("--params") else c for c in cmd]
        if killed_at < 60 else cmd,
        cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600,
    )
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    resumed = int(re.search(r"resumed from step : (\d+)", second.stdout).group(1))
    assert resumed == killed_at
    total = 60 if killed_at < 60 else 400
    trained = int(re.search(r"trained (\d+) steps", second.stdout).group(1))
    assert trained == total - killed_at

    from official.core import config as config_lib
    from official.core import trainer

    cfg = config_lib.resolve("mobilenetv2_035_digits", params_override=_digits_overrides(digits_dir))
    import tensorflow as tf

    model, task, step = trainer.restore_for_inference(cfg, model_dir)
    assert step == total
    reader = tf.train.load_checkpoint(os.path.join(model_dir, "checkpoints"))
    iterations = [k for k in reader.get_variable_to_shape_map() if k.startswith("optimizer/_iterations")]
    assert iterations and int(reader.get_tensor(iterations[0])) == total


def test_resume_restores_the_checkpointed_weights_and_optimizer_state(digits_dir, tmp_path, monkeypatch):
    """A second run of the same command restores the model's weights (BN statistics included) and every
    optimizer slot from the checkpoint, not just the step counter; a fresh model differs from them."""
    import keras

    from official.core import trainer
    from official.core.task import build_task
    from tests.tiny_models import registered, tiny_experiment

    registered(monkeypatch)
    model_dir = str(tmp_path / "run")
    cfg = tiny_experiment(digits_dir, steps=4, steps_per_loop=2, global_batch_size=8, batch_norm=True)
    keras.backend.clear_session()  # both runs name their layers from zero, whatever ran before in this process
    results, first = trainer.run_experiment(cfg, model_dir, mode="train", return_model=True)
    assert results["step"] == 4
    saved = [np.asarray(w) for w in first.get_weights()]
    saved_slots = {v.path: np.asarray(v) for v in first.optimizer.variables}
    # The checkpoint holds these values (read back by the inference path, a plain tf.train.Checkpoint).
    restored, _, step = trainer.restore_for_inference(cfg, model_dir)
    assert step == 4
    for a, b in zip(restored.get_weights(), saved, strict=True):
        np.testing.assert_array_equal(a, b)

    keras.backend.clear_session()
    results, resumed = trainer.run_experiment(cfg, model_dir, mode="train", return_model=True)
    assert results["step"] == 4 and "train_seconds" not in results  # restored at 4: nothing left to train
    keras.utils.set_random_seed(cfg.runtime.seed)
    initial = build_task(cfg).build_model().get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(initial, saved, strict=True)), "training left a weight as built"
    for i, (a, b) in enumerate(zip(resumed.get_weights(), saved, strict=True)):
        np.testing.assert_array_equal(a, b, err_msg=f"weight {i} after resume is not the checkpointed value")
    slots = {v.path: np.asarray(v) for v in resumed.optimizer.variables}
    assert slots.keys() == saved_slots.keys()
    for path, value in saved_slots.items():
        np.testing.assert_array_equal(slots[path], value, err_msg=f"optimizer variable {path} after resume")
    assert all(np.any(v != 0) for v in saved_slots.values()), "an optimizer slot is still zero: nothing to check"


def test_every_worker_resumes_from_the_chiefs_checkpoint(tmp_path):
    """Multi-worker resume: a non-chief worker (same MODEL_DIR, its own throw-away save folder) restores
    the chief's newest checkpoint, so every replica restarts at the same step with the same weights."""
    import keras

    from official.core import callbacks
    from tests import helpers
    from tests.tiny_models import TinyConvNet

    def model_and_optimizer(seed: int):
        keras.utils.set_random_seed(seed)
        model = TinyConvNet(batch_norm=True)
        optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
        optimizer.build(model.trainable_variables)
        return model, optimizer

    model_dir = str(tmp_path)
    model, optimizer = model_and_optimizer(0)
    helpers.randomise_weights(model)  # BN statistics too: a fresh model's would match by chance
    for v in optimizer.variables:
        v.assign(np.full(v.shape, 7).astype(v.dtype))  # step 7, non-zero slots
    chief = callbacks.CheckpointCallback(model_dir, model, optimizer, 2, chief=True)
    chief.on_epoch_end(0)
    fresh, fresh_optimizer = model_and_optimizer(1)
    worker = callbacks.CheckpointCallback(model_dir, fresh, fresh_optimizer, 2, chief=False, worker="worker_1")
    assert worker.restore() == 7, "the worker did not resume at the chief's step"
    for a, b in zip(fresh.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(fresh_optimizer.variables, optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    worker.on_epoch_end(0)  # its own save goes to a throw-away folder, not the chief's checkpoints
    assert sorted(os.listdir(os.path.join(model_dir, "checkpoints"))) == ["checkpoint", "ckpt-7.data-00000-of-00001", "ckpt-7.index"]


def _run_worker(args: list[str], env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, WORKER, *args], cwd=REPO, env=env or ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def _weights(path: str) -> list[np.ndarray]:
    data = np.load(path)
    return [data[k] for k in sorted(data.files, key=lambda k: int(k.split("_")[1]))]


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus_matches_one_device(digits_dir, tmp_path):
    import json

    runs = {}
    for name, extra in (("one", ["--strategy=one_device"]), ("mirrored", ["--strategy=mirrored", "--logical_cpus=2"])):
        out = str(tmp_path / f"{name}.npz")
        proc = _run_worker([*extra, f"--model_dir={tmp_path / name}", f"--data={digits_dir}", "--steps=3", f"--out={out}"])
        log, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, log[-3000:]
        if name == "mirrored":
            assert "MirroredStrategy x 2 replica(s)" in log
        runs[name] = (json.load(open(out + ".json"))["loss"], _weights(out))
    assert abs(runs["one"][0] - runs["mirrored"][0]) < 1e-4, (runs["one"][0], runs["mirrored"][0])
    for a, b in zip(runs["one"][1], runs["mirrored"][1], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _small_folder(digits_dir: str, root: str) -> str:
    """16 of the digits images (2 of classes 0-5, 1 of classes 6-9) in the ImageNet layout, train/ = val/."""
    import shutil

    classes = sorted(os.listdir(os.path.join(digits_dir, "train")))
    assert len(classes) == 10
    for split in ("train", "val"):
        for c, name in enumerate(classes):
            os.makedirs(os.path.join(root, split, name))
            for f in sorted(os.listdir(os.path.join(digits_dir, "train", name)))[: 2 if c < 6 else 1]:
                shutil.copy(os.path.join(digits_dir, "train", name, f), os.path.join(root, split, name, f))
    return root


@pytest.mark.slow
def test_two_process_multi_worker_shards_the_data_and_matches_one_device(digits_dir, tmp_path):
    """Two workers train on disjoint halves that together cover the data, and end where one device
    training on the global batch ends. With 16 examples and a global batch of 16 every step is a
    full-batch step, so the one-device run is the same computation whatever order each pipeline reads."""
    import json

    data = _small_folder(digits_dir, str(tmp_path / "data"))
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    common = [f"--data={data}", "--steps=3", "--batch=16"]
    procs = []
    for i in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})
        env = {**ENV, "TF_CONFIG": tf_config}
        procs.append(_run_worker(["--strategy=multi_worker", f"--model_dir={tmp_path / f'w{i}'}", *common,
                                  f"--out={tmp_path / f'w{i}.npz'}", f"--record={tmp_path / f'w{i}.seen'}"], env=env))
    procs.append(_run_worker(["--strategy=one_device", f"--model_dir={tmp_path / 'one'}", *common,
                              f"--out={tmp_path / 'one.npz'}", f"--record={tmp_path / 'one.seen'}"]))
    logs = []
    for p in procs:
        try:
            logs.append(p.communicate(timeout=300)[0])
        finally:
            p.kill()
    for p, log in zip(procs, logs, strict=True):
        assert p.returncode == 0, log[-3000:]
    assert "CollectiveAllReduceStrategy x 2 replica(s)" in logs[0]  # MultiWorkerMirroredStrategy's class
    seen = {name: set(json.load(open(tmp_path / f"{name}.seen"))) for name in ("w0", "w1", "one")}
    assert len(seen["one"]) == 16, f"the one-device run saw {len(seen['one'])} distinct examples, expected 16"
    assert not seen["w0"] & seen["w1"], f"both workers trained on {len(seen['w0'] & seen['w1'])} of the same examples"
    assert seen["w0"] | seen["w1"] == seen["one"], "the two workers' shards do not cover the data"
    assert len(seen["w0"]) == len(seen["w1"]) == 8
    w0, w1 = _weights(str(tmp_path / "w0.npz")), _weights(str(tmp_path / "w1.npz"))
    one = _weights(str(tmp_path / "one.npz"))
    assert len(w0) == len(w1) == len(one) > 0
    for a, b in zip(w0, w1, strict=True):
        np.testing.assert_array_equal(a, b)
    for i, (a, b) in enumerate(zip(w0, one, strict=True)):
        np.testing.assert_allclose(a, b, atol=1e-5, err_msg=f"weight {i}: 2 workers != one device on the global batch")
    results = [json.load(open(str(tmp_path / f"{n}.npz") + ".json")) for n in ("w0", "one")]
    assert results[0]["step"] == results[1]["step"] == 3
    assert abs(results[0]["loss"] - results[1]["loss"]) < 1e-5, (results[0]["loss"], results[1]["loss"])

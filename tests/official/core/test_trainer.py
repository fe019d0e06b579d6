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


@pytest.mark.slow
def test_two_process_multi_worker_ends_with_identical_weights(digits_dir, tmp_path):
    import json

    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    procs = []
    for i in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})
        env = {**ENV, "TF_CONFIG": tf_config}
        procs.append(_run_worker(["--strategy=multi_worker", f"--model_dir={tmp_path / f'w{i}'}", f"--data={digits_dir}",
                                  "--steps=3", f"--out={tmp_path / f'w{i}.npz'}"], env=env))
    logs = []
    for p in procs:
        try:
            logs.append(p.communicate(timeout=300)[0])
        finally:
            p.kill()
    for p, log in zip(procs, logs, strict=True):
        assert p.returncode == 0, log[-3000:]
    assert "CollectiveAllReduceStrategy x 2 replica(s)" in logs[0]  # MultiWorkerMirroredStrategy's class
    w0, w1 = _weights(str(tmp_path / "w0.npz")), _weights(str(tmp_path / "w1.npz"))
    assert len(w0) == len(w1) > 0
    for a, b in zip(w0, w1, strict=True):
        np.testing.assert_array_equal(a, b)
    # and training moved the weights away from a fresh initialisation of the same seed
    assert json.load(open(str(tmp_path / "w0.npz") + ".json"))["step"] == 3

"""HMOR test data: a tiny synthetic set in the real 3DMPPE layout (official/data/mppe3d.write_mppe3d)."""

import numpy as np
import pytest

from official.data import humans3d, mppe3d, skeletons3d

IMAGE_SIZE = 64


def scenes(seed: int, count: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [humans3d.scene(rng, skeletons3d.MUCO_21, image_size=(IMAGE_SIZE, IMAGE_SIZE)) for _ in range(count)]


@pytest.fixture(scope="session")
def humans_dir(tmp_path_factory):
    """OUT/images/{train,test} + OUT/annotations/{train,test}.json: 8 train and 4 test images of 64 x 64."""
    out = str(tmp_path_factory.mktemp("humans3d"))
    mppe3d.write_mppe3d(out, "train", scenes(0, 8), image_format="png")
    mppe3d.write_mppe3d(out, "test", scenes(1, 4), image_format="png")
    return out


def experiment(data_root: str, **trainer):
    """hmor_tiny_humans3d on the fixture (train split for both when `overfit`)."""
    from official.core import config as config_lib

    cfg = config_lib.resolve("hmor_tiny_humans3d")
    for data, split in ((cfg.train_data, "train"), (cfg.eval_data, "test")):
        data.path = f"{data_root}/images"
        data.annotations = f"{data_root}/annotations/{split}.json"
        data.shuffle_buffer = 8
    for key, value in trainer.items():
        setattr(cfg.trainer, key, value)
    return cfg


def run_script(script: str, tmp_path, backend: str, env: dict | None = None, **arrays) -> dict:
    """tests.helpers.run_jax_script for any backend and extra environment (XLA_FLAGS): runs
    `python -c script IN.npz OUT.npz` and returns OUT.npz's arrays (a failure shows the stderr)."""
    import os
    import subprocess
    import sys

    from tests import helpers

    src, out = os.path.join(str(tmp_path), f"{backend}_in.npz"), os.path.join(str(tmp_path), f"{backend}_out.npz")
    np.savez(src, **arrays)
    full_env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": "",
                "PYTHONPATH": helpers.REPO, **(env or {})}
    proc = subprocess.run([sys.executable, "-c", script, src, out], env=full_env, cwd=helpers.REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(out) as got:
        return {k: got[k] for k in got.files}

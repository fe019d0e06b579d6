"""GraphMemVOS end to end on generated moving shapes (tools/make_vos_sequences.py, DAVIS layout): the tools.train
path (run_experiment in this process, as tools.train calls it) with the video_object_segmentation task, a
short schedule of the small run, and J&F from the test protocol against the first-mask-copied baseline on the
same sequences (the eval split is the training split here: a learning bar, not generalisation)."""

from __future__ import annotations

import json
import os

import keras
import pytest

from official.core import config as config_lib
from official.core import trainer
from official.core.config import ConfigError
from tools.make_vos_sequences import write_dataset

STEPS = 40
OVERRIDES = (f"trainer.train_steps={STEPS},trainer.steps_per_epoch={STEPS},trainer.steps_per_loop={STEPS},"
             "trainer.global_batch_size=2,train_data.clip_length=2,train_data.path=shapes,eval_data.path=shapes,eval_data.split=train,"
             "runtime.intra_op_threads=1,runtime.inter_op_threads=1")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("gmvos")
    write_dataset(str(root / "shapes"), train=2, val=1, frames=5, height=32, width=48, max_objects=2, seed=0)
    cfg = config_lib.resolve("graphmem_vos_tiny_moving_shapes", [], OVERRIDES, str(root))
    model_dir = str(root / "model")
    keras.backend.clear_session()
    trainer.run_experiment(cfg, model_dir, "train_and_eval")
    with open(os.path.join(model_dir, "eval_results.json")) as f:
        return cfg, model_dir, json.load(f)


def test_short_run_learns_to_track(run):
    """The untrained tiny model scores J&F 0.095 on these sequences (lr 0, measured); 40 steps give 0.454 (two runs,
    identical since the clip starts and augmentations draw from per-example seeds; before, the parallel maps made
    runs differ: 0.27-0.48 in eight runs), against 0.384 for the first mask copied to every frame. The bar is
    learning (> 0.2, over twice the untrained score): float differences between machines can still move a 40-step
    run from scratch, so beating the copy is not asserted."""
    _, _, results = run
    assert results["J&F-Mean"] > 0.2, results
    assert results["step"] == STEPS


def test_config_errors_name_the_key(run):
    cfg = run[0]
    from official.core.task import build_task

    bad = config_lib.resolve("graphmem_vos_tiny_moving_shapes", [], "train_data.source=kitti", cfg.runtime.data_dir)
    with pytest.raises(ConfigError, match="train_data.source"):
        build_task(bad)

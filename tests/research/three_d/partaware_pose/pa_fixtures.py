"""Shared pieces of the PartAwarePose tests: a micro derived network, a tiny Human3.6M-layout fixture, and
one trained one-head micro network that the overfit and the export tests share (trained once per session)."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from official.data.human36m import synthetic_subject, write_human36m
from research.three_d.partaware_pose import experiments, losses
from research.three_d.partaware_pose import genotypes as gt
from research.three_d.partaware_pose.model import PartAwarePoseNet

# 32 px crop -> stem /4 -> one reduction cell /2 -> one head stage x2 -> 8 x 8 x 8 volumes
MICRO = dict(depth_bins=8, input_shape=(32, 32, 3), stem_channels=8, stem_strides=(1, 2, 2), channels=8, layers=1,
             reductions=(0,), head_channels=8, head_stages=1)
# One part head over all 17 joints (14,980 weights; the 5-head micro network compiles ~2x slower).
ONE_HEAD = dict(MICRO, part_groups=(tuple(range(17)),),
                genotype=dict(gt.DEFAULT_GENOTYPE, parts=gt.DEFAULT_GENOTYPE["parts"][:1]))


@pytest.fixture(scope="session")
def h36m_dir(tmp_path_factory) -> str:
    """Subject 1, 1 action x 2 subactions x 2 frames x 4 cameras = 16 images of 128 px, in 3DMPPE's layout."""
    root = str(tmp_path_factory.mktemp("h36m"))
    write_human36m(root, 1, synthetic_subject(np.random.default_rng(0), 1, frames=2, image_size=128))
    return root


def micro_config(root: str, search: bool = False):
    """The small-run experiment pointed at `root`, with the micro network's crop and heatmap sizes."""
    cfg = experiments.partaware_pose_tiny_synth()
    data = dataclasses.replace(cfg.train_data, path=root, subjects=(1,), image_size=32, shuffle_buffer=16)
    cfg.train_data, cfg.eval_data = data, dataclasses.replace(data)
    cfg.task = dataclasses.replace(cfg.task, depth_bins=8, heatmap_size=8, search=search)
    return cfg


@pytest.fixture(scope="session")
def trained_micro(h36m_dir):
    """The one-head micro network, one jit_compile=True step (its loss) then 79 more XLA Adam 3e-3 steps on
    the 16 fixture crops; returns (task, images, labels, model, first loss)."""
    from research.three_d.partaware_pose.task import PartAwarePoseTask

    task = PartAwarePoseTask(micro_config(h36m_dir))
    images, labels = next(iter(task.build_inputs(task.config.eval_data, False, 16)))
    images, labels = np.asarray(images), np.asarray(labels)
    keras.utils.set_random_seed(0)
    model = PartAwarePoseNet(**ONE_HEAD)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=losses.integral_l1, jit_compile=True)
    first = float(model.train_on_batch(images, labels))
    for _ in range(79):  # the compiled step again (fit() would trace and XLA-compile its own: +11 s)
        model.train_on_batch(images, labels)
    return task, images, labels, model, first

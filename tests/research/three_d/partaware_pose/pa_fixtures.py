"""Shared pieces of the PartAwarePose tests: a micro derived network and a tiny Human3.6M-layout fixture."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from official.data.human36m import synthetic_subject, write_human36m
from research.three_d.partaware_pose import experiments

# 32 px crop -> stem /4 -> one reduction cell /2 -> one head stage x2 -> 8 x 8 x 8 volumes
MICRO = dict(depth_bins=8, input_shape=(32, 32, 3), stem_channels=8, stem_strides=(1, 2, 2), channels=8, layers=1,
             reductions=(0,), head_channels=8, head_stages=1)


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

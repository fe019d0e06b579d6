"""Crowd3DPose (ECCV 2020): multi-view 3D pose of crowds from feet-matched views; see README.md.

Importing the package registers the 2D network variants and its experiments (TF-free, so the model runs
under KERAS_BACKEND=jax without TensorFlow); the 23-keypoint task is `research.three_d.crowd3dpose.task`
(listed separately in official/core/zoo_index.py). The geometry (geometry, matching, optimize,
reconstruct) is numpy/scipy.
"""

from research.three_d.crowd3dpose import experiments, variants  # noqa: F401

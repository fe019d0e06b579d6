"""Crowd3DPose (ECCV 2020): multi-view 3D pose of crowds from feet-matched views; see README.md.

Importing the package registers the 2D network variants, its experiments and the 23-keypoint task; the
geometry (geometry, matching, optimize, reconstruct) is numpy/scipy and imports nothing of Keras.
"""

from research.three_d.crowd3dpose import experiments, task, variants  # noqa: F401

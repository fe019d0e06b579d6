"""RTM3D / KM3D (Li et al., ECCV 2020): monocular 3D detection from nine projected keypoints;
registers its variants and experiments (the task is official.tasks.mono3d)."""

from official.vision.rtm3d import experiments, variants  # noqa: F401

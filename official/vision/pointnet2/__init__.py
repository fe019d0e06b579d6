"""PointNet++ classifiers (SSG, MSG) on xyz point clouds: registers the variants and the experiments."""

from official.vision.pointnet2 import experiments, variants  # noqa: F401

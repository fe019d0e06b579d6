"""PointMixup (Chen et al., ECCV 2020): EMD-optimal interpolation of point clouds as augmentation."""

from official.training.pointmixup import experiments, method  # noqa: F401  (registration)

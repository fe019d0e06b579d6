"""PartAwarePose (Chen et al., ECCV 2020): part-aware monocular 3D human pose by architecture search."""

from research.three_d.partaware_pose import experiments, variants  # noqa: F401  (registers names)

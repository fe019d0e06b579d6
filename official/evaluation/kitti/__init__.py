"""The KITTI 3D object evaluator (AP 2d / bev / 3d / aos, R40 and R11) in numpy, matching the C++ devkit."""

from official.evaluation.kitti.api import evaluate_kitti, evaluate_kitti_objects

__all__ = ["evaluate_kitti", "evaluate_kitti_objects"]

"""PointMixup experiments: main.py's input and manifold PointMixup on ModelNet40, and the primitives small run.

ModelNet40 (yunlu-chen/PointMixup README commands, main.py defaults with -rot True):
- `pointnet2_msg_modelnet40_pointmixup`: `-pointmixup True -manimixup False -mixup_alpha 0.4`: input mixup,
  symmetry alignment on, weight decay 5e-6;
- `pointnet2_msg_modelnet40_manifold_pointmixup`: `-pointmixup True -manimixup True -mixup_alpha 1.5`: a level
  in {input, SA1, SA2} per batch, no alignment, weight decay 1e-6.
Everything else is the baseline `pointnet2_msg_modelnet40` (official/vision/pointnet2/experiments.py).
"""

from __future__ import annotations

from official.core.config import ExperimentConfig
from official.core.registry import register_experiment
from official.training.pointmixup.config import PointMixupConfig
from official.vision.pointnet2.experiments import (
    pointmixup_recipe,
    pointnet2_msg_modelnet40,
    shapes_experiment,
)


@register_experiment("pointnet2_msg_modelnet40_pointmixup")
def pointnet2_msg_modelnet40_pointmixup() -> ExperimentConfig:
    cfg = pointnet2_msg_modelnet40()
    cfg.trainer = pointmixup_recipe(weight_decay=5e-6)
    cfg.training = PointMixupConfig(alpha=0.4, manifold=False, align=True)
    return cfg


@register_experiment("pointnet2_msg_modelnet40_manifold_pointmixup")
def pointnet2_msg_modelnet40_manifold_pointmixup() -> ExperimentConfig:
    cfg = pointnet2_msg_modelnet40()
    cfg.trainer = pointmixup_recipe(weight_decay=1e-6)
    cfg.training = PointMixupConfig(alpha=1.5, manifold=True, align=False)
    return cfg


@register_experiment("pointnet2_tiny_shapes_pointmixup")
def pointnet2_tiny_shapes_pointmixup() -> ExperimentConfig:
    """The small run with input PointMixup (alpha 0.4, alignment on), else as `pointnet2_tiny_shapes`; the exact
    (host-side Hungarian) assignment: the in-graph auction costs ~2-3 s per batch of 16 x 64 points on the shared
    2 cores (0.06 s for the whole step without mixing)."""
    cfg = shapes_experiment()
    cfg.training = PointMixupConfig(alpha=0.4, manifold=False, align=True, assignment="hungarian")
    return cfg


@register_experiment("pointnet2_tiny_shapes_manifold_pointmixup")
def pointnet2_tiny_shapes_manifold_pointmixup() -> ExperimentConfig:
    """The small run with manifold PointMixup (alpha 1.5, levels 0-2, no alignment)."""
    cfg = shapes_experiment()
    cfg.training = PointMixupConfig(alpha=1.5, manifold=True, align=False, assignment="hungarian")
    return cfg

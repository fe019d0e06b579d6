"""PointMixup's `training` section (defaults: the official main.py, input mixup with up-axis rotation)."""

from __future__ import annotations

import dataclasses

from official.core.config import TrainingMethodConfig


@dataclasses.dataclass
class PointMixupConfig(TrainingMethodConfig):
    method: str = "pointmixup"
    alpha: float = 0.4  # Beta(alpha, alpha) of the mixrate; main.py: 0.4 input / 1.5 manifold (rotation aug), 1.0 / 2.0 without
    manifold: bool = False  # manifold PointMixup: mix at a level drawn uniformly from {0 input, 1 after SA1, 2 after SA2}
    align: bool = True  # symmetry alignment before the assignment (main.py: on for input mixup with rotation aug)
    assignment: str = "auction"  # auction (official/losses/emd, in-graph, XLA) | hungarian (exact scipy on the host, no XLA: small CPU runs)
    emd_iterations: int = 6000  # budget of auction rounds (official/losses/emd; it stops once all points are matched; MSN: eps 0.005, 300 full rounds)

"""DSA's `training` section: the FLOPs budget and the keep-ratio optimisation (spec card Method 4).

The paper's outer optimiser is not in the official repo; the keys below are this zoo's simple,
documented choices (official/training/dsa/README.md, "Reconstructed").
"""

from __future__ import annotations

import dataclasses

from official.core.config import TrainingMethodConfig


@dataclasses.dataclass
class DSAConfig(TrainingMethodConfig):
    method: str = "dsa"
    flops_ratio: float = 0.5  # budget B: FLOPs(alpha) <= B * FLOPs(unpruned), multiply-adds at the training size
    warmup_steps: int = 0  # weight-only steps (sampled masks, alpha frozen) before the first keep-ratio update
    alpha_every: int = 1  # a keep-ratio (theta) update every this many steps after warm-up; 1 = every step
    alpha_lr: float = 0.05  # gradient step size on alpha (the method's own step; theta = logit(alpha) follows)
    rho: float = 10.0  # ADMM penalty rho/2 ||alpha - z + u||^2 on alpha's step; keep alpha_lr * rho < 1
    projection_iterations: int = 30  # bisection steps of the z projection (scale s with FLOPs(s(alpha+u)) = budget)
    theta_init: float = 5.0  # initial logit of every keep ratio (official init: alpha = sigmoid(5) = 0.993)
    beta2_start: float = 1.0  # beta2 at step 0 (official init 1.0)
    beta2_end: float = 1.0  # beta2 at the last step, linear in between (> beta2_start sharpens p toward 0/1)
    importance: str = "l1"  # l1 (primal filter L1, the spec's default) | bn (|BN gamma|, the released checkpoints)
    solver_iterations: int = 40  # fixed safeguarded-Newton iterations of the beta1 solve (XLA needs a fixed count)

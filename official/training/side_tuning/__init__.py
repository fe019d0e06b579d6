"""Side-Tuning (Zhang et al., ECCV 2020): additive side networks over a frozen base, task by task.

The networks are in official/vision/side_tuning; this package holds the training method and experiments.
"""

from official.training.side_tuning import experiments, method  # noqa: F401  (registration)

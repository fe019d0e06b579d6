"""Side-Tuning (Zhang et al., ECCV 2020): additive side networks over a frozen base, task by task."""

from official.training.side_tuning import experiments, method, model  # noqa: F401  (registration)

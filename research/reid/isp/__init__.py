"""ISP (Zhu et al., ECCV 2020): identity-guided human semantic parsing for person re-identification."""

from research.reid.isp import experiments, method, task, variants  # noqa: F401  (registration)

"""RSN (Residual Steps Network, ECCV 2020): top-down pose estimation; registers its variants and experiments."""

from official.vision.rsn import experiments, variants  # noqa: F401

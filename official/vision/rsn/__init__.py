"""RSN (Residual Steps Network, ECCV 2020): top-down pose estimation; registers its variants."""

from official.vision.rsn import variants  # noqa: F401

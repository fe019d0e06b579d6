"""Plain multi-layer perceptrons on flattened images: registers their variants."""

from official.vision.mlp import variants  # noqa: F401

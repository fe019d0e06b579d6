"""Registered MLPs."""

from official.core.registry import register_variant
from official.vision.mlp.model import MLP

# UniLoss MNIST net: 784*500+500 + 500*300+300 + 300*1+1 = 543,101 parameters (one output).
register_variant("mlp_500_300", MLP, hidden=(500, 300))

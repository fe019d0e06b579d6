"""Registered NDN networks (no published sizes: widths are reconstructed; counts asserted in tests/research/generative/ndn)."""

from official.core.registry import register_variant
from research.generative.ndn.model import NeuralDesignNetwork

# Spec default: 128-d embeddings, 5 graph convolutions per module, 32-d latents; RICO: 13 labels, <= 9 elements.
register_variant("ndn_base", NeuralDesignNetwork, dim=128, num_layers=5, latent_dim=32)
# Tests and the CPU small run.
register_variant("ndn_tiny", NeuralDesignNetwork, dim=32, num_layers=2, latent_dim=8)

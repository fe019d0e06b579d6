"""Generative research methods (translation GANs)."""

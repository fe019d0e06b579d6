"""Generative models of the zoo's research side (translation GANs)."""

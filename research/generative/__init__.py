"""Generative research models: image-to-image translation and synthesis GANs."""

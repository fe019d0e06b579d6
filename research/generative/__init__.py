"""Generative methods of the zoo's research tree: image-to-image translation and synthesis GANs."""

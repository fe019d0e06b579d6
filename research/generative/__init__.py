"""Generative methods (unpaired translation, synthesis) of the zoo's research tree."""

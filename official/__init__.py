"""Stable models, training methods and evaluation tools of eccv20-zoo."""

"""SIZER (Tiwari, Bhatnagar, Tung, Pons-Moll, ECCV 2020): size-sensitive clothing (SizerNet) and mesh
parsing into garment layers (ParserNet) over SMPL+G.

The package registers its variants (TF-free: the networks, SMPL+G and losses import under JAX).
"""

from research.three_d.sizer import variants  # noqa: F401  (registration)

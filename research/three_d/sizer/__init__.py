"""SIZER (Tiwari, Bhatnagar, Tung, Pons-Moll, ECCV 2020): size-sensitive clothing (SizerNet) and mesh
parsing into garment layers (ParserNet) over SMPL+G.

The package registers its variants and experiments (TF-free: the networks, SMPL+G and losses import
under JAX); the `sizer` task (tf.data, serving) registers from official/core/zoo_index.py as
`research.three_d.sizer.task`.
"""

from research.three_d.sizer import experiments, variants  # noqa: F401  (registration)

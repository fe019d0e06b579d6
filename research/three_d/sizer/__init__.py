"""SIZER (Tiwari, Bhatnagar, Tung, Pons-Moll, ECCV 2020): size-sensitive clothing (SizerNet) and mesh
parsing into garment layers (ParserNet) over SMPL+G.

The package registers its variants and experiments (TF-free: the networks, SMPL+G and losses import
under JAX); the `sizer` and `sizer_parser` tasks (tf.data, serving) register from official/core/zoo_index.py as
`research.three_d.sizer.task` and `research.three_d.sizer.parser_task`.
"""

from research.three_d.sizer import experiments, parser_experiments, variants  # noqa: F401  (registration)

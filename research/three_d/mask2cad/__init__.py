"""Mask2CAD (Kuo, Angelova, Lin, Dai, ECCV 2020): detect, segment, retrieve a CAD model and its pose.

No official code. The package registers its variants (network.Mask2CAD: the zoo's CPN detector + the
Mask2CAD heads, views encoder and in-graph CAD retrieval) and experiments (TF-free imports); the
`mask2cad` task (tf.data on Pix3D, evaluation, serving) registers from official/core/zoo_index.py as
`research.three_d.mask2cad.task`. Pieces: rotation_bins.py, heads.py, losses.py, retrieval.py,
metrics.py, cad_views.py; README.md is the model card.
"""

from research.three_d.mask2cad import experiments, variants  # noqa: F401  (registration)

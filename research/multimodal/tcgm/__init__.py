"""TCGM (Sun, Xu et al., ECCV 2020): semi-supervised multi-modal learning by total-correlation gain maximisation.

Importing the package registers its variants and experiments (TF-free: the network imports under JAX
without TensorFlow). The `tcgm` task and training method register from official/core/zoo_index.py as
`research.multimodal.tcgm.task` and `research.multimodal.tcgm.method`. Readers: official/data/newsgroups.py
(20news-bydate tree + TF-IDF), official/data/multiview_csd.py (.csd feature files); metric:
official/evaluation/multiview_accuracy.py.
"""

from research.multimodal.tcgm import experiments, variants  # noqa: F401  (registration)

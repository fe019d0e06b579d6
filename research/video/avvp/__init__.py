"""AVVP / HAN (Tian, Li, Xu, ECCV 2020): weakly supervised audio-visual video parsing on LLP features.

Importing the package registers its variants (TF-free: the network imports under JAX without TensorFlow).
The `avvp` task (tf.data) registers from official/core/zoo_index.py as `research.video.avvp.task`.
The LLP reader lives in official/data/llp.py, the segment / event F1 in official/evaluation/avvp_f1.py.
"""

from research.video.avvp import experiments, variants  # noqa: F401  (registration)

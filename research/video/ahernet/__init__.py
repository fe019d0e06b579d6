"""AherNet: Learning to Localize Actions from Moments (Long et al., ECCV 2020).

Importing the package registers the variants and experiments (TF-free: the model runs under JAX); the
`temporal_detection` task and the `aher` training method register from official/core/zoo_index.py as
`research.video.ahernet.task` and `research.video.ahernet.method`.
"""

from research.video.ahernet import experiments, variants  # noqa: F401  (registration)

"""RPL (ECCV 2020) reciprocal-point open-set classifier: registers the variants and the experiments."""

from official.vision.rpl import experiments, variants  # noqa: F401

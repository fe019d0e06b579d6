"""SoftPoolNet (ECCV 2020) point-cloud completion and classification: registers the variants and experiments."""

from research.three_d.softpoolnet import experiments, variants  # noqa: F401

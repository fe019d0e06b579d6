"""OpenHybrid (ECCV 2020) hybrid classifier + flow density model: registers the variants and the experiments."""

from research.open_set.openhybrid import experiments, variants  # noqa: F401

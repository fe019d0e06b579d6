"""ProxyBNN (ECCV 2020) binarised ResNets: registers the variants and the experiments."""

from official.vision.proxybnn import experiments, variants  # noqa: F401

"""ExchNet (Cui et al., ECCV 2020): fine-grained hashing with attention parts, feature exchange and asymmetric codes."""

from research.retrieval.exchnet import experiments, method, task, variants  # noqa: F401  (registration)

"""UniLoss (Liu, Wang, Deng, ECCV 2020): training on an interpolated surrogate of the metric itself."""

from official.tasks import binary_classification  # noqa: F401  (registers the binary_classification task)
from official.training.uniloss import experiments, method  # noqa: F401  (registration)
from official.vision import mlp  # noqa: F401  (registers mlp_500_300)

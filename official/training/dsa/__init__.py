"""DSA (Ning et al., ECCV 2020): budgeted channel pruning by differentiable sparsity allocation.

graph/masked/flops/prune hold the network side (channel groups, the masked network, the quadratic
FLOPs model, physical pruning); solver/gate/method the differentiable allocation and its training.
"""

from official.training.dsa import experiments, method  # noqa: F401  (registration)

"""TopoPlan (Beeching, Dibangoye, Simonin, Wolf, ECCV 2020): a learned planner on uncertain topological maps.

Importing the package registers its variants and experiments (TF-free: the network imports under JAX).
The `topo_planning` task (tf.data, evaluation, export) registers from official/core/zoo_index.py as
`research.geometry.topo_planning.task`. The graph reader is official/data/topo_graphs.py, the metrics
official/evaluation/planning.py and the symbolic Bellman-Ford planner official/ops/bellman_ford.py.
"""

from research.geometry.topo_planning import experiments, variants  # noqa: F401  (registration)

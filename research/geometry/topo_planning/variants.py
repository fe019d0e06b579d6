"""Registered TopoPlan variants (trainable counts asserted in tests/research/geometry/topo_planning/).

- topo_planning_gnn256  the README's command: hidden 256, 2-layer GRU, 6 rounds, 512-d features on;
                        4,837,385 trainable parameters (spec card: bound_init 527,650, bound_update
                        3,437,766, GRU 789,504, the rest heads, prod_mlp and the unused r_init)
- topo_planning_tiny    hidden 32, features off (--use_features absent): tests and the CPU small run
"""

from official.core.registry import register_variant
from research.geometry.topo_planning.model import TopoPlanGNN

register_variant("topo_planning_gnn256", TopoPlanGNN)
register_variant("topo_planning_tiny", TopoPlanGNN, feature_dim=0, hidden_size=32)

"""TopoPlan's config sections: the graph files (official/data/topo_graphs.py) and the `topo_planning` task."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class TopoGraphDataConfig(DataConfig):
    source: str = "topo_graphs"  # ROOT/{train,val}/*.npz, one graph each (tools/topoplan_pth_to_npz.py converts the .pth files)
    path: str = "graph_data3_distance_weights"  # dataset root (the Zenodo archive's folder)
    split: str = "train"  # sub-folder: train | val
    data_limit: int = 0  # the first n files by name (train.py: --data_limit 74000, --val_data_limit 1600); 0 = all
    use_probs: bool = True  # linkages = predicted_adj_mat (--use_probs) instead of ground_adj_mat
    normalize: bool = True  # local distances / their max (--normalize)
    all_targets: bool = False  # every (graph, target) pair per pass; False = one target per graph (train.py: random per access)
    shuffle_buffer: int = 100_000  # training shuffle buffer (graphs)


@dataclasses.dataclass
class TopoPlanTaskConfig(TaskConfig):
    name: str = "topo_planning"  # registered Task class (research/geometry/topo_planning/task.py)
    num_classes: int = 32  # next-node classes = node slots N
    baseline_threshold: float = 0.5  # the symbolic baseline keeps edges with probability >= this

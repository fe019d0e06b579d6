"""ConvONet's config sections: the ONet-layout data and the occupancy task (TF-free)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class OnetDataConfig(DataConfig):
    source: str = "onet"  # ONet ShapeNet layout (official/data/onet_shapes.py): <synset>/<model>/points.npz + pointcloud.npz
    path: str = ""  # dataset root holding metadata.yaml and the synset folders
    split: str = "train"  # which <synset>/<split>.lst lists the models
    categories: tuple[str, ...] = ()  # synset folders to use; () = metadata.yaml's (all 13 ShapeNet classes)
    points_file: str = "points.npz"  # query points + bit-packed occupancies (rooms: points_iou, a multi-file folder)
    pointcloud_file: str = "pointcloud.npz"  # surface points + normals (rooms: pointcloud)
    multi_files: int = 0  # rooms: 10 alternative samplings per scene (<name>_00..09.npz); 0 = single files
    input_points: int = 3000  # pointcloud_n: noisy surface points fed to the encoder (rooms 10,000)
    input_noise: float = 0.005  # pointcloud_noise: std of the Gaussian noise on the input points
    query_points: int = 2048  # points_subsample: query points per shape per training step
    eval_points: int = 100_000  # evaluation: query points per shape for IoU (points_iou_file, all 100k)
    unpackbits: bool = True  # points_unpackbits: occupancies stored with np.packbits


@dataclasses.dataclass
class OccupancyTaskConfig(TaskConfig):
    name: str = "occupancy"  # registered Task class (research/three_d/conv_onet/task.py)
    num_classes: int = 1  # unused: occupancy is one logit per query point
    threshold: float = 0.2  # test.threshold: occupancy probability of the surface (IoU and meshes)
    mesh_shapes: int = 0  # evaluation: extract meshes for the first n eval shapes and report Chamfer-L1 / NC / F-score (0 = none, -1 = all)
    mesh_resolution0: int = 32  # generation.resolution_0: MISE start grid
    mesh_upsampling_steps: int = 2  # generation.upsampling_steps: MISE refinements (32 -> 128)
    mesh_points: int = 100_000  # points sampled on each extracted mesh and taken from the GT cloud (eval_meshes.py)
    fscore_threshold: float = 0.01  # F-score distance threshold (1% of the unit cube)

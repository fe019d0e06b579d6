"""PointContrast's config sections: ScanNet-pair data, the task, and the `pointcontrast` training method."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig, TrainingMethodConfig


@dataclasses.dataclass
class PairDataConfig(DataConfig):
    source: str = "scannet_pairs"  # ScanNet Pair Dataset layout: <path>/<pair_list> + <scene>/pcd/<frame>.npz (key pcd)
    path: str = ""  # data.dataset_root_dir: the root the pair list's paths are relative to
    pair_list: str = "overlap-30-full.txt"  # data.scannet_match_dir: the pair list file under path
    voxel_size: float = 0.025  # data.voxel_size (metres)
    capacity: int = 40_000  # static voxel capacity per view (padding + mask); voxels beyond it are dropped and counted (guess: ScanNet frames at 2.5 cm)
    max_matches: int = 16  # kept view-1 matches per view-0 voxel (nearest first); the official keeps all within the radius
    match_multiplier: float = 1.5  # trainer.positive_pair_search_voxel_size_multiplier: match radius = voxel_size x this
    rotation_range: float = 360.0  # trainer.rotation_range (degrees) of each view's random rotation (use_random_rotation)
    jitter: bool = True  # transforms.Jitter on the constant features: N(0, 0.01) with probability 0.95 (training only)
    coord_bits: int = 9  # voxel coordinates must be < 2**coord_bits (model.coord_bits); farther voxels are masked out
    eval_pairs_per_sample: int = 512  # evaluation: query voxels per pair for the correspondence top-1


@dataclasses.dataclass
class PointContrastTaskConfig(TaskConfig):
    name: str = "pointcontrast"  # registered Task class
    num_classes: int = 0  # unused (self-supervised)


@dataclasses.dataclass
class PointContrastTrainingConfig(TrainingMethodConfig):
    method: str = "pointcontrast"
    loss: str = "infonce"  # infonce (PointNCELossTrainer, the paper's) | hardest_contrastive (HardestContrastiveLossTrainer, the launch script's)
    nce_t: float = 0.4  # misc.nceT of scripts/ddp_local.sh (config default 0.07)
    npos: int = 4096  # misc.npos: query/key pairs per step of PointInfoNCE (per replica)
    num_pos_per_batch: int = 1024  # trainer.num_pos_per_batch: hardest-contrastive positives per pair in the batch
    num_hn_samples_per_batch: int = 256  # trainer.num_hn_samples_per_batch: candidate negatives per pair and view
    pos_thresh: float = 0.1  # trainer.pos_thresh (on squared feature distance)
    neg_thresh: float = 1.4  # trainer.neg_thresh (on feature distance)

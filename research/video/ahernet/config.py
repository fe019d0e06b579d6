"""AherNet's config sections (TF-free): ActivityNet-format untrimmed videos + trimmed moments, the
`temporal_detection` task and the `aher` training method."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from official.core.config import DataConfig, TaskConfig, TrainingMethodConfig


@dataclasses.dataclass
class TemporalDataConfig(DataConfig):
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("path", "feature_dir", "moments", "moment_feature_dir")
    source: str = "activitynet"  # ActivityNet v1.3 JSON + per-step feature CSVs (official/data/activitynet.py)
    path: str = ""  # the annotation JSON ({"database": {video: {subset, duration, annotations}}})
    feature_dir: str = ""  # FEATURE_DIR/<video_id>.csv: header + one row of feature_dim floats per step
    subset: str = "training"  # the JSON's "subset" value to read (training | validation | testing)
    feature_dim: int = 2048  # columns of the feature CSVs (P3D: 2048)
    temporal_length: int = 512  # steps every video is resampled to (the repo's input_steps)
    max_segments: int = 25  # ground-truth rows per video (the repo's gt_hold_num)
    moments: str = ""  # trimmed moments, Kinetics CSV (label,youtube_id,time_start,time_end,split); "" = none
    moment_feature_dir: str = ""  # MOMENT_FEATURE_DIR/<youtube_id>.csv, same format as feature_dir
    moment_length: int = 256  # steps every moment is resampled to (the repo's input_moment_steps)
    ratio_range: tuple[float, float] = (0.1, 0.9)  # synthetic sequences: the moment's share of T, uniform (ours; the repo draws ratio_id * 0.05)
    cache: bool = True  # keep the parsed feature sequences in memory
    shuffle_buffer: int = 10_000  # training: videos in the shuffle buffer


@dataclasses.dataclass
class TemporalDetectionTaskConfig(TaskConfig):
    name: str = "temporal_detection"  # registered Task class (research/video/ahernet/task.py)
    num_classes: int = 600  # moment classes (Kinetics-600); the untrimmed classes are a subset of them
    match_threshold: float = 0.8  # anchor positive above this IoU (aher_k600_train.py match_threshold)
    neg_threshold: float = 0.3  # anchor negative below this IoU (neg_match_threshold)
    negative_ratio: float = 1.0  # hard negatives per positive (negative_ratio)
    cls_weight: float = 2.0  # proposal and classification CE weight (cls_weights)
    iou_weight: float = 25.0  # IoU regression weight (iou_weights)
    nms_threshold: float = 0.9  # 1-D NMS IoU at inference (nms_threshold)
    max_detections: int = 100  # segments kept per video after NMS
    use_class_scores: bool = True  # score = proposal x class probability (cls_flag)
    eval_subset: str = "validation"  # ground-truth subset the mAP is computed on


@dataclasses.dataclass
class AherTrainingConfig(TrainingMethodConfig):
    method: str = "aher"  # untrimmed localisation + moment classification + synthetic contextual moments + D/G
    moment_weight: float = 1.0  # moment-classification loss weight (optimiser 2 of the repo's five)
    synthetic_weight: float = 1.0  # localisation loss on synthetic contextual moments (optimisers 4 and 5)
    dis_weight: float = 0.1  # discriminator loss weight (aher_adv.py dis_weights)
    gen_weight: float = 0.1  # generator adversarial loss weight (gen_weights)

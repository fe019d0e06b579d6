"""ISP's config sections: re-ID data (256x128 crops, PK batches), the task, and the `isp` training method."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig, TrainingMethodConfig

IMAGENET_MEAN = (123.675, 116.28, 103.53)  # INPUT.PIXEL_MEAN x 255
IMAGENET_STD = (58.395, 57.12, 57.375)  # INPUT.PIXEL_STD x 255


@dataclasses.dataclass
class ReidDataConfig(DataConfig):
    source: str = "market1501"  # market1501 layout (bounding_box_train/, query/, bounding_box_test/); Duke/CUHK03-NP share it
    path: str = ""  # dataset root holding the three split folders
    height: int = 256  # INPUT.SIZE_TRAIN / SIZE_TEST height
    width: int = 128  # INPUT.SIZE_TRAIN / SIZE_TEST width
    pad: int = 10  # training: INPUT.PADDING zero pad, then a random crop back to height x width
    flip_prob: float = 0.5  # training: INPUT.PROB horizontal flip (image and pseudo-labels together)
    erase_prob: float = 0.5  # training: INPUT.RE_PROB random erasing (area 0.02-0.4, aspect 0.3-3.33, image-mean fill)
    num_instances: int = 4  # DATALOADER.NUM_INSTANCE: K images per identity in a PK batch (P = batch / K)
    mean: tuple[float, float, float] = IMAGENET_MEAN  # per-channel mean on the 0-255 scale
    std: tuple[float, float, float] = IMAGENET_STD  # per-channel std on the 0-255 scale


@dataclasses.dataclass
class ISPTaskConfig(TaskConfig):
    name: str = "isp_reid"  # registered Task class
    num_classes: int = 751  # training identities (Market-1501: 751); must match model.num_classes
    part_num: int = 7  # CLUSTERING.PART_NUM: background + 6 parts; must match model.part_num
    pseudo_label_subdir: str = "train_pseudo_labels"  # DATASETS.PSEUDO_LABEL_SUBDIR under train_data.path: one PNG per training image
    with_arm: bool = True  # evaluation: also report the visibility-aware (ARM) distance's mAP / CMC as arm_*


@dataclasses.dataclass
class ISPTrainingConfig(TrainingMethodConfig):
    method: str = "isp"
    clustering_period: int = 2  # CLUSTERING.PERIOD: re-cluster at the start of every 2nd epoch (1, 3, 5, ... 1-based)
    clustering_stop: int = 101  # CLUSTERING.STOP: no clustering after this (1-based) epoch
    kmeans_iterations: int = 20  # faiss Kmeans niter of engine/clustering.py
    enhanced: bool = True  # CLUSTERING.ENHANCED: squash the normalised norms before the foreground split
    cluster_batch_size: int = 128  # TEST.IMS_PER_BATCH of the feature pass before clustering
    label_smoothing: float = 0.1  # CrossEntropyLabelSmooth epsilon (MODEL.IF_LABELSMOOTH on)
    triplet_margin: float = 0.3  # SOLVER.MARGIN of the batch-hard triplet loss
    parsing_loss_weight: float = 0.1  # SOLVER.PARSING_LOSS_WEIGHT of the pixel cross-entropy
    center_loss_weight: float = 0.0005  # SOLVER.CENTER_LOSS_WEIGHT (MODEL.IF_WITH_CENTER on); 0 = off
    center_lr: float = 0.5  # SOLVER.CENTER_LR of the centers' own SGD

"""Config dataclasses of the top-down keypoint task, apart from its tf.data code (TF-free, so a pose
model's package imports under KERAS_BACKEND=jax on a machine without TensorFlow)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class KeypointDataConfig(DataConfig):
    PATH_FIELDS = ("path", "annotations", "detections", "ground_truth")  # resolved against runtime.data_dir

    source: str = "coco"  # coco (person_keypoints JSON + image folder) | mpii (annotations JSON + image folder)
    path: str = ""  # image folder
    annotations: str = ""  # COCO person_keypoints JSON, or an MPII annotations JSON (HRNet/RSN layout)
    detections: str = ""  # evaluation: COCO results JSON of person boxes (RSN's det_json); "" = ground-truth boxes
    detection_score_threshold: float = 0.0  # detections below this score are dropped (RSN keeps all)
    ground_truth: str = ""  # MPII: gt_valid.mat (or .npz/.json) with headboxes for PCKh
    input_size: tuple[int, int] = (256, 192)  # crop (height, width): COCO 256x192 or 384x288, MPII 256x256
    image_size: int = 256  # the crop height (kept for tools that ask for one size)
    kernels: tuple[int, ...] = (15, 11, 9, 7, 5)  # Gaussian target kernel sizes, coarse to fine (RSN attribute.py)


@dataclasses.dataclass
class KeypointTaskConfig(TaskConfig):
    name: str = "keypoints"  # registered Task class
    num_classes: int = 17  # keypoints K (COCO 17, MPII 16); must match the model's num_keypoints
    flip_test: bool = True  # evaluation: average with the mirrored crop's heatmaps (pairs swapped)
    blur_kernel: int = 5  # decoding: Gaussian smoothing of the heatmaps (RSN: 5 COCO, 9 MPII)
    oks_nms_threshold: float = 0.0  # > 0: OKS-NMS over each image's persons (HRNet 0.9); RSN runs none
    rescore_threshold: float = -1.0  # person score = box score x mean keypoint score above this; < 0: all (RSN)

"""Config dataclasses of the detection task, apart from its tf.data code.

Experiments import these; keeping them free of TensorFlow lets a detector's package (variants, model,
experiments) import under KERAS_BACKEND=jax on a machine without TensorFlow (the GPU benchmarks).
"""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class DetectionDataConfig(DataConfig):
    PATH_FIELDS = ("path", "annotations")  # resolved against runtime.data_dir

    source: str = "coco"  # coco (instances JSON + image folder) | tfrecord (shards of tools.coco_to_tfrecord)
    path: str = ""  # image folder (coco) or TFRecord file pattern (tfrecord)
    annotations: str = ""  # COCO instances JSON: labels of the coco source and the evaluation ground truth
    image_size: int = 511  # square network input S (CPN trains on 511 x 511 crops)
    shuffle_buffer: int = 1000  # examples in the shuffle buffer (tfrecord source, training)
    max_boxes: int = 128  # object rows per image (CornerNet max_tag_len)
    scale_range: tuple[float, float] = (0.6, 1.4)  # training random resize factors (CPN spec: 0.6-1.4)
    scale_step: float = 0.1  # step of the resize factors (0 = continuous)
    fit_to_output: bool = False  # scale relative to S / max(H, W) instead of the native resolution
    crop_border: float = 128.0  # the crop centre stays this far inside the resized image (CornerNet)
    color_jitter: float = 0.4  # training brightness/contrast/saturation strength (0 disables)
    lighting_std: float = 0.1  # training PCA lighting noise std (0 disables)
    skip_empty: bool = True  # training skips images without objects (CornerNet resamples them)


@dataclasses.dataclass
class DetectionTaskConfig(TaskConfig):
    name: str = "detection"  # registered Task class
    num_classes: int = 80  # object classes (heatmap channels); must match the annotations
    targets: str = "corners"  # training target encoder: corners (CornerNet/CPN heatmaps + offsets)
    output_stride: int = 4  # network input pixels per output cell
    gaussian_iou: float = 0.7  # CornerNet's radius rule: corners within it keep IoU >= this

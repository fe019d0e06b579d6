"""Mask2CAD's config sections: the Pix3D data and the `mask2cad` task (TF-free)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class Pix3DDataConfig(DataConfig):
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("path", "split_file")

    source: str = "pix3d"  # the Pix3D release layout (official/data/pix3d.py): pix3d.json + img/ mask/ model/
    path: str = ""  # the release's pix3d.json (image, mask and model paths are relative to its folder)
    split_file: str = ""  # Mesh R-CNN split JSON (COCO format, e.g. pix3d_s1_train.json): keeps the records whose img is one of its images[].file_name; "" = every record
    image_size: int = 511  # square network input: each image is scaled to fit (longer side) and zero-padded bottom/right
    horizontal_flip: bool = False  # not used: a mirror image would need a mirrored CAD model (GUESS: no augmentation)
    random_resized_crop: bool = False  # not used


@dataclasses.dataclass
class Mask2CADTaskConfig(TaskConfig):
    name: str = "mask2cad"  # registered Task class (research/three_d/mask2cad/task.py)
    num_classes: int = 9  # object categories (Pix3D: 9); must equal model.num_classes
    categories: tuple[str, ...] = ()  # Pix3D categories kept, in class-index order; () = all 9 Pix3D categories
    views_per_model: int = 16  # rendered views of every CAD model in the retrieval database (spec card: 16)
    view_elevation: float = 0.35  # camera elevation of the renders (radians; GUESS)
    gaussian_iou: float = 0.7  # CPN corner-heatmap radius: min IoU of a box from jittered corners (CornerNet)
    output_stride: int = 4  # CPN's output stride (corner targets)
    mesh_samples: int = 10000  # points sampled per mesh for F1@0.3 (Mesh R-CNN's Pix3D evaluation: 10,000)
    f1_threshold: float = 0.3  # mesh F1 distance after scaling the GT's longest box edge to 10
    ap_mesh_f1: float = 0.5  # a detection is an AP^mesh true positive when its F1@0.3 exceeds this
    view_cache: bool = True  # keep the rendered views in <release>/mask2cad_cache/ (renders are slow in numpy)

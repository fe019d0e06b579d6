"""Config dataclasses of the monocular 3D detection task (TF-free, so model packages import under JAX)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig

KM3D_SCALES = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3)  # numpy arange(0.6, 1.4, 0.1), KM3D car_pose.py


@dataclasses.dataclass
class Mono3dDataConfig(DataConfig):
    PATH_FIELDS = ("path", "split_file")  # resolved against runtime.data_dir

    source: str = "kitti"  # kitti (image_2 + label_2 + calib + ImageSets, official/data/kitti.py)
    path: str = ""  # KITTI object folder holding image_2/label_2/calib, or the one above training/ and ImageSets/
    split: str = "train"  # ImageSets/<split>.txt (3dop split: train 3,712 / val 3,769)
    split_file: str = ""  # an explicit frame-id list; replaces `split`
    classes: tuple[str, ...] = ("Car", "Pedestrian", "Cyclist")  # object types, in class-index order
    input_size: tuple[int, int] = (384, 1280)  # network input (height, width), KM3D kittihp default_resolution
    image_size: int = 384  # the input height (kept for tools that ask for one size)
    max_objects: int = 32  # object rows per frame (KM3D max_objs)
    flip_prob: float = 0.5  # training: horizontal flip probability (exact in 3D, P2 mirrored)
    scales: tuple[float, ...] = KM3D_SCALES  # training: random crop scale factors of max(H, W)
    border: int = 128  # training: random crop centres keep this far from the border (KM3D _get_border)
    random_center: bool = True  # training: random crop centre (KM3D); False = image centre, scale jitter only


@dataclasses.dataclass
class Mono3dTaskConfig(TaskConfig):
    name: str = "mono3d"  # registered Task class
    num_classes: int = 3  # centre heatmap channels; must equal len(data.classes) and the model's num_classes
    recall_points: int = 40  # KITTI AP: 40 recall points (R40, the test server) or 11 (R11, older val numbers)
    iou_setting: str = "0.7"  # "0.7": Car 0.7 / Ped, Cyc 0.5; "0.5": Car 0.5 / Ped, Cyc 0.25 (KM3D setting 1)
    geometry: str = ""  # evaluation geometry: "" = the model's; "grm" or "gauss_newton"

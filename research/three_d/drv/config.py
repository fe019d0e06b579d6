"""DRV's config sections: a COLMAP-text flash capture as ray batches, and the `reflectance_volume` task (TF-free)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class CaptureDataConfig(DataConfig):
    source: str = "colmap"  # COLMAP text model (official/data/colmap.py): PATH/cameras.txt, images.txt, images/NAME, lights.json (optional)
    path: str = ""  # the capture folder (one scene: DRV is a per-scene optimisation)
    images_dir: str = "images"  # the photos' folder under path (16- or 8-bit PNG, linear)
    split: str = "train"  # train: collocated views not held out | test: held-out views + every non-collocated (novel-light) view | all
    holdout: tuple[str, ...] = ()  # image names held out for evaluation (as in images.txt)
    holdout_every: int = 0  # > 0: also hold out every n-th view in name order (LLFF's convention; unverified for DRV)
    image_size: int = 512  # square photo side; cameras.txt must agree (the served image size)
    rays_per_view: int = 64  # training: random pixels drawn from one photo per visit; the per-replica batch is a multiple of it
    cache: bool = True  # keep the decoded photos in memory (a capture of 500 x 512^2 x 3 float32 is 1.6 GB)
    shuffle_buffer: int = 512  # training: photos in the shuffle buffer (all of them for small captures)


@dataclasses.dataclass
class ReflectanceTaskConfig(TaskConfig):
    name: str = "reflectance_volume"  # registered Task class (research/three_d/drv/task.py)
    num_classes: int = 0  # unused: the outputs are linear RGB radiance per ray
    eval_chunk_rays: int = 4096  # evaluation renders a view in chunks of this many rays (memory)

"""LIMP's config sections: FAUST-2500 data, the `limp` task (metrics) and the `limp` training method (losses)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig, TrainingMethodConfig


@dataclasses.dataclass
class Faust2500DataConfig(DataConfig):
    source: str = "faust2500"  # FAUST-2500 layout (official/data/faust.py): ROOT/raw/tr_reg_%03d_2000/{mesh.vert,mesh.triv} or .off/.ply/.obj
    path: str = "faust2500"  # dataset root holding raw/ (geodesics are cached in ROOT/processed/)
    split: str = "train"  # train (first num_train meshes) | test (the rest) | all
    num_meshes: int = 100  # meshes tr_reg_000 .. num_meshes-1 (FAUST: 10 subjects x 10 poses)
    num_train: int = 80  # the authors' split: the first 80 train, the last 20 test
    poses_per_subject: int = 10  # identity label = index // poses_per_subject
    shift_y: bool = True  # pre-processing as datasets/faust_2500.py: y shifted so that min(y) = min_y
    min_y: float = -0.85  # the authors' floor height after the shift (metres)
    heat_t: float = 0.1  # heat time of the cached target geodesics (LIMP: 0.1 on FAUST in metres); 0 = Crane's h^2 per mesh
    rotate_degrees: float = 36.0  # training augmentation: rotation about y by U(-d, d) (RandomRotate(36, axis=1))
    translate: float = 0.005  # training augmentation: per-vertex U(-x, x) jitter (RandomTranslate(0.005))


@dataclasses.dataclass
class LimpTaskConfig(TaskConfig):
    name: str = "limp"  # registered Task class (research/three_d/limp/task.py)
    num_classes: int = 0  # unused: no labels
    heat_t: float = 0.1  # heat time of the geodesics of decoded shapes in the metric (0 = Crane's h^2 per mesh)
    interp_pairs: int = 0  # evaluation: mid-point interpolations scored (neighbouring eval meshes); 0 = all


@dataclasses.dataclass
class LimpTrainingConfig(TrainingMethodConfig):
    method: str = "limp"  # the LIMP VAE step (research/three_d/limp/method.py): reconstruction + metric priors
    kl_weight: float = 1.0  # weight of the KL term in L_rec (train_FAUST.py: 1)
    pairs: int = 2  # interpolation / intra / inter pairs per replica per step (train_FAUST.py: interpolation batch 2)
    steps_per_iteration: int = 20  # optimizer steps per outer iteration of train_FAUST.py (stages count outer iterations)
    stage_starts: tuple[int, ...] = (7000, 10000, 15000)  # outer iterations after which stages 2 / 3 / 4 start
    heat_t: float = 0.1  # heat time of the geodesic loss on decoded meshes (utils_distance.py: 0.1); 0 = Crane's h^2

"""ConvONet experiments: the authors' recipes (configs/pointcloud/*.yaml + train.py) and a CPU small run.

Recipe (train.py, configs/pointcloud/{shapenet_3plane,shapenet_grid32,room_3plane}.yaml): Adam lr 1e-4
(PyTorch defaults otherwise: betas 0.9 / 0.999, eps 1e-8), batch 32, no weight decay, no schedule;
3,000 (rooms 10,000) noisy input points (std 0.005), 2,048 query points per shape; validation every
10,000 steps, model selection by validation IoU at occupancy 0.2. train.py has no iteration limit (the
authors stopped runs by hand); our default length, 300,000 steps, is our choice (unverified).
Evaluation: IoU on the 100k points of points.npz (points_iou), meshes by MISE 32 -> 128.
"""

from __future__ import annotations

from official.core.config import (
    ExperimentConfig,
    ExportConfig,
    RuntimeConfig,
    TrainerConfig,
    constant_adam_trainer,
    model_config,
)
from official.core.registry import register_experiment
from research.three_d.conv_onet.config import OccupancyTaskConfig, OnetDataConfig


def official_trainer(train_steps: int = 300_000, batch: int = 32, steps_per_loop: int = 10_000) -> TrainerConfig:
    """train.py: Adam(lr=1e-4) on the whole model, constant rate, batch 32, validate every 10,000 steps."""
    return constant_adam_trainer(train_steps, batch, 1e-4, steps_per_loop)


def occupancy_experiment(model: str, path: str, trainer: TrainerConfig, input_points: int = 3000,
                         multi_files: int = 0, runtime: RuntimeConfig | None = None, **model_args) -> ExperimentConfig:
    files = dict(points_file="points_iou", pointcloud_file="pointcloud") if multi_files else {}
    return ExperimentConfig(
        task=OccupancyTaskConfig(),
        model=model_config(model, **model_args),
        train_data=OnetDataConfig(path=path, split="train", input_points=input_points, multi_files=multi_files,
                                  **files),
        eval_data=OnetDataConfig(path=path, split="val", input_points=input_points, multi_files=multi_files, **files),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model",), verify_examples=2),
    )


@register_experiment("conv_onet_3plane_shapenet")
def conv_onet_3plane_shapenet() -> ExperimentConfig:
    """3 planes 64^2 on ONet's ShapeNet (13 classes), the authors' shapenet_3plane.yaml."""
    return occupancy_experiment("conv_onet_3plane_shapenet", "ShapeNet", official_trainer())


@register_experiment("conv_onet_grid32_shapenet")
def conv_onet_grid32_shapenet() -> ExperimentConfig:
    """One 32^3 grid with the 3D U-Net on ShapeNet, shapenet_grid32.yaml."""
    return occupancy_experiment("conv_onet_grid32_shapenet", "ShapeNet", official_trainer())


@register_experiment("conv_onet_3plane_rooms")
def conv_onet_3plane_rooms() -> ExperimentConfig:
    """3 planes 128^2 on the synthetic rooms (rooms_04..08 in the authors' config; all rooms_0X folders
    listed in metadata.yaml here), 10,000 input points, 10 alternative samplings per scene."""
    return occupancy_experiment("conv_onet_3plane_rooms", "synthetic_room_dataset", official_trainer(),
                                input_points=10_000, multi_files=10)


# The CPU small run on `python -m tools.make_shapes3d --layout=onet --out=data/shapes_onet` (6 primitive
# classes x 12 training shapes): 32^2 planes, U-Net depth 3, 1,024 input / 1,024 query points, batch 8,
# Adam 1e-3 (the paper's 1e-4 is for 30k shapes and days of training).
SMALL_STEPS = 300


@register_experiment("conv_onet_3plane_small_shapes3d")
def conv_onet_3plane_small_shapes3d() -> ExperimentConfig:
    trainer = official_trainer(train_steps=SMALL_STEPS, batch=8, steps_per_loop=100)
    trainer.lr_schedule.base_lr = 1e-3
    trainer.log_every_n_steps = 25
    cfg = occupancy_experiment("conv_onet_3plane_small", "shapes_onet", trainer, input_points=1024,
                               runtime=RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False))
    cfg.train_data.query_points = 1024
    cfg.eval_data.eval_points = 4096  # all points of the generated points.npz
    cfg.eval_data.split = "test"
    cfg.task.mesh_shapes = 2  # the two test shapes of the first class: the (ellipsoidal) spheres
    return cfg

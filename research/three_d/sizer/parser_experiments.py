"""ParserNet experiments: the authors' recipe (configs/parser_default.yaml + models/train_parser.py) and a CPU small run.

Recipe: Adam (torch defaults) at lr 1e-5 (`optimizer_param: 0.00001`), constant, no weight decay; batch 4
scans (drop_last); max_epoch 20,000; dropout 0.3; g5 (T-shirt + shorts) UpperClothes, feat `v` (vertices
only), K = 50 candidates (`num_neigh`); stage 1 = identity L1 for epochs 0-15 (`ep < 16`; the config's
train_stage_1 / train_stage_2 keys are not read by the code), then Chamfer + 100 x Laplacian + local
regulariser. Data: the code's `parsernet_g5_vc_vn.npz` (data_dir) and its mesh_utils folder (meta_data).
The code validates on the same file (its split file is commented out, `eval: false`), so eval_data =
train_data. The code saves every 100 epochs; loops here are 1,000 steps (ours, as SizerNet's).
"""

from __future__ import annotations

import dataclasses

from official.core.config import (
    ExperimentConfig,
    OptimizerConfig,
    RuntimeConfig,
    ScheduleConfig,
    TrainerConfig,
    model_config,
)
from official.core.registry import register_experiment
from research.three_d.sizer.config import ParserDataConfig, ParserTaskConfig
from research.three_d.sizer.experiments import small_run_trainer


def parser_trainer(epochs: int = 20_000, batch: int = 4, steps_per_loop: int = 1000) -> TrainerConfig:
    """train_parser.py: Adam(lr=1e-5), constant, batch 4, 20,000 epochs."""
    return TrainerConfig(
        epochs=epochs,
        global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="constant", base_lr=1e-5),
        steps_per_loop=steps_per_loop,
        checkpoints_to_keep=3,
        log_every_n_steps=100,
    )


def parser_experiment(model: str, data: ParserDataConfig, trainer: TrainerConfig, task: ParserTaskConfig | None = None,
                      runtime: RuntimeConfig | None = None, **model_args) -> ExperimentConfig:
    return ExperimentConfig(
        task=task or ParserTaskConfig(),
        model=model_config(model, **model_args),
        train_data=data,
        eval_data=dataclasses.replace(data),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
    )


def sizer_parser_data(resolution: str) -> ParserDataConfig:
    return ParserDataConfig(path="sizer/parsernet_g5_vc_vn.npz", meta_data="sizer/mesh_utils", resolution=resolution)


@register_experiment("parsernet_g5_hires_sizer")
def parsernet_g5_hires_sizer() -> ExperimentConfig:
    """ParserNet on SIZER's g5 UpperClothes, hi-res SMPL (27,554 input vertices -> 7,702 x 50): the code's config."""
    return parser_experiment("sizer_parsernet_g5_hires", sizer_parser_data("hres"), parser_trainer())


@register_experiment("parsernet_g5_lowres_sizer")
def parsernet_g5_lowres_sizer() -> ExperimentConfig:
    """The same on standard SMPL (6,890 -> 1,924 x 50; 42 M weights instead of 672 M)."""
    return parser_experiment("sizer_parsernet_g5_lowres", sizer_parser_data("lres"), parser_trainer())


# The CPU small run on `python -m tools.make_sizer --out=data/sizer_synthetic` (parser_train.npz: 4 scans of the
# 578-vertex synthetic body, garment = its 192 garment vertices; K = 8). ParserNet's widths rule (in/200, in/50)
# at 578 x 3 inputs; batch 4 = the code's (the whole file: the code's 16 identity epochs are 16 steps); local
# regulariser x 1 and dropout 0.3 as the code. Deviations for a minutes-long CPU run: Adam lr 1e-2 (code 1e-5),
# 300 steps, Laplacian weight 0 (the coarse tube's own uniform Laplacian is ~2 cm per vertex: the code's 100 x
# pulls each vertex towards its neighbours' mean: 29.1 mm after 300 steps).
SMALL_STEPS = 300


@register_experiment("parsernet_tiny_synthetic")
def parsernet_tiny_synthetic() -> ExperimentConfig:
    trainer = small_run_trainer(parser_trainer(steps_per_loop=100), SMALL_STEPS, 1e-2)
    data = ParserDataConfig(path="sizer_synthetic/parser_train.npz", meta_data="sizer_synthetic", resolution="lres")
    task = ParserTaskConfig(laplacian_weight=0.0)
    return parser_experiment("sizer_parsernet_tiny", data, trainer, task=task,
                             runtime=RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False),
                             num_input_vertices=578, num_output_vertices=192, num_neighbours=8)

"""SizerNet experiments: the authors' recipe (configs/sizer_default.yaml + models/train_sizer.py) and a CPU small run.

Recipe: Adam (torch defaults: betas 0.9 / 0.999, eps 1e-8) at lr 1e-5 (`optimizer_param: 0.00001`),
constant, no weight decay; batch 4 subjects = 36 (input size, output size) pairs (the code pairs the 3
sizes inside the step; our reader forms the same pairs as examples); max_epoch 20,000; dropout 0.3;
loss Chamfer + 100 x uniform Laplacian. Data: the code's `g5_size.npz` (data_dir), the garment template
`<meta_data>/g5/UpperClothes_<res>.obj`, SMPL+G from the user's converted SMPL (`body_model`, ours:
TailorNet's SMPL4Garment in the code, hi-res SMPL with 27,554 vertices for `hres`). The code validates on
the same file (its split file is commented out), so eval_data = train_data here too. The code saves every
100 epochs; an epoch's step count depends on the subjects in the file, so loops are 1,000 steps (ours).
"""

from __future__ import annotations

from official.core.config import (
    ExperimentConfig,
    ExportConfig,
    OptimizerConfig,
    RuntimeConfig,
    ScheduleConfig,
    TrainerConfig,
    model_config,
)
from official.core.registry import register_experiment
from research.three_d.sizer.config import SizerDataConfig, SizerTaskConfig

PAIRS_PER_SUBJECT = 9  # 3 input sizes x 3 output sizes


def official_trainer(epochs: int = 20_000, subjects_per_batch: int = 4, steps_per_loop: int = 1000) -> TrainerConfig:
    """train_sizer.py: Adam(lr=1e-5), constant, batch 4 subjects (36 pairs), 20,000 epochs."""
    return TrainerConfig(
        epochs=epochs,
        global_batch_size=subjects_per_batch * PAIRS_PER_SUBJECT,
        optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="constant", base_lr=1e-5),
        steps_per_loop=steps_per_loop,
        checkpoints_to_keep=3,
        log_every_n_steps=100,
    )


def small_run_trainer(trainer: TrainerConfig, steps: int, lr: float) -> TrainerConfig:
    """The CPU small runs' changes to a recipe's trainer: `steps` at `lr`, logs every 50 steps, one checkpoint,
    no in-training validation (the evaluation at the end is the measurement)."""
    trainer.train_steps = steps
    trainer.lr_schedule.base_lr = lr
    trainer.log_every_n_steps = 50
    trainer.checkpoints_to_keep = 1
    trainer.validation_every_n_loops = 0
    return trainer


def sizer_data(path: str, body_model: str, garment_mesh: str) -> SizerDataConfig:
    return SizerDataConfig(path=path, body_model=body_model, garment_mesh=garment_mesh)


def sizer_experiment(model: str, data: SizerDataConfig, trainer: TrainerConfig, task: SizerTaskConfig | None = None,
                     runtime: RuntimeConfig | None = None, eval_data: SizerDataConfig | None = None,
                     **model_args) -> ExperimentConfig:
    return ExperimentConfig(
        task=task or SizerTaskConfig(),
        model=model_config(model, **model_args),
        train_data=data,
        eval_data=eval_data or SizerDataConfig(**{k: getattr(data, k) for k in ("path", "body_model", "garment_mesh")}),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model", "tflite"), verify_examples=4, atol=1e-4),
    )


@register_experiment("sizernet_g5_hires_sizer")
def sizernet_g5_hires_sizer() -> ExperimentConfig:
    """SizerNet on SIZER's g5 (T-shirt + shorts) UpperClothes, hi-res SMPL+G (V = 7,702; body 27,554)."""
    return sizer_experiment("sizer_sizernet_g5_hires", sizer_data(
        "sizer/g5_size.npz", "sizer/smpl_g5_hres.npz", "sizer/mesh_utils/g5/UpperClothes_hres.obj"), official_trainer())


@register_experiment("sizernet_g5_lowres_sizer")
def sizernet_g5_lowres_sizer() -> ExperimentConfig:
    """The same on standard SMPL (6,890 vertices; garment V = 1,924)."""
    return sizer_experiment("sizer_sizernet_g5_lowres", sizer_data(
        "sizer/g5_size_lres.npz", "sizer/smpl_g5_lres.npz", "sizer/mesh_utils/g5/UpperClothes_lres.obj"),
        official_trainer())


# The CPU small run on `python -m tools.make_sizer --out=data/sizer_synthetic` (4 subjects x 3 sizes of the
# synthetic skinned template, garment V = 192; held-out subjects in g5_size_val.npz). Overfit check of the
# spec card (check 6: the 36 training pairs, < 2 mm), so eval_data is the training file. Deviations for a
# minutes-long CPU run: SizerNet widths of the paper at L = 100 (sizer_sizernet_tiny's layout with V = 192),
# lr 1e-3 full batch, the decoder's last kernel x 0.01 at the start (offsets near 0: the garment starts on
# the skinned body, where Chamfer's nearest points are the right vertices), Laplacian weight 0 (the
# 578-vertex tube's own uniform Laplacian is ~2 cm per vertex: the code's 100 x smoothing shrinks it).
SMALL_STEPS = 400
SMALL_DATA = "sizer_synthetic"


@register_experiment("sizernet_tiny_synthetic")
def sizernet_tiny_synthetic() -> ExperimentConfig:
    trainer = small_run_trainer(official_trainer(steps_per_loop=100), SMALL_STEPS, 1e-3)
    data = sizer_data(f"{SMALL_DATA}/g5_size.npz", f"{SMALL_DATA}/body_model.npz",
                      f"{SMALL_DATA}/g5/UpperClothes_lres.obj")
    return sizer_experiment("sizer_sizernet_tiny", data, trainer,
                            task=SizerTaskConfig(laplacian_weight=0.0, offset_init_scale=0.01),
                            runtime=RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False),
                            num_vertices=192, latent_dim=16)

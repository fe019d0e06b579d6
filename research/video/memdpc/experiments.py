"""MemDPC experiments: the authors' recipes (memdpc/main.py, eval/test.py; spec card memdpc.md "Training") and
CPU small runs on tools.make_video_clips' moving-shape frame folders.

Pretext (main.py): Adam lr 1e-3, weight decay 1e-5 (torch Adam: L2 added to the gradients), batch 16, 8 blocks x
5 frames at downsample 3; UCF101 split 1: R-2D3D-18 at 128 px, 500 epochs, lr x0.1 at 300 and 400; Kinetics-400:
R-2D3D-34 at 224 px, 200 epochs, x0.1 at 120 and 160. Augmentation: consistent random-sized crop + flip, per-frame
grey (p 0.25) and colour jitter (0.5, 0.5, 0.5, 0.25) (VideoFramesDataConfig defaults).
Classifier (eval/test.py, model_lc.py): fine-tune ("ft") 500 epochs with drops at 300 / 400; linear probe ("last")
100 epochs with drops at 60 / 80; dropout 0.5; Adam 1e-3, wd 1e-5 (the eval optimiser settings are recalled,
not verified against test.py). configs/memdpc/*.yaml run them on 8 GPUs.
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
from research.video.memdpc.config import MemDpcTaskConfig, VideoFramesDataConfig


def official_trainer(epochs: int, milestones: tuple[float, ...], batch: int = 16, lr: float = 1e-3) -> TrainerConfig:
    """main.py / test.py: Adam(lr, weight_decay 1e-5), MultiStepLR(milestones, 0.1)."""
    return TrainerConfig(
        epochs=epochs,
        global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        weight_decay=1e-5,
        weight_decay_mode="l2",
        lr_schedule=ScheduleConfig(name="multistep", base_lr=lr, milestones=milestones, decay_rate=0.1),
        checkpoints_to_keep=3,
        log_every_n_steps=50,
    )


def video_experiment(model, path: str, dataset: str, trainer: TrainerConfig, num_classes: int = 101,
                     eval_split: str = "test", runtime: RuntimeConfig | None = None, **task) -> ExperimentConfig:
    return ExperimentConfig(
        task=MemDpcTaskConfig(num_classes=num_classes, **task),
        model=model,
        train_data=VideoFramesDataConfig(path=path, dataset=dataset, split="train"),
        eval_data=VideoFramesDataConfig(path=path, dataset=dataset, split=eval_split),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model",), verify_examples=2, atol=1e-4),
    )


@register_experiment("memdpc_r2d3d18_ucf101")
def memdpc_r2d3d18_ucf101() -> ExperimentConfig:
    """Pretext on UCF101 split 1 (R-2D3D-18, 128 px, 500 epochs)."""
    return video_experiment(model_config("memdpc_r2d3d18"), "ucf101", "ucf101", official_trainer(500, (300, 400)))


@register_experiment("memdpc_r2d3d34_kinetics")
def memdpc_r2d3d34_kinetics() -> ExperimentConfig:
    """Pretext on Kinetics-400 (R-2D3D-34, 224 px, 200 epochs): the released checkpoint's recipe."""
    return video_experiment(model_config("memdpc_r2d3d34"), "kinetics400", "kinetics", official_trainer(200, (120, 160)),
                            num_classes=400, eval_split="val")


def _classifier(variant: str, dataset: str, classes: int, train_what: str) -> ExperimentConfig:
    model = model_config(variant)
    model.num_classes, model.train_what = classes, train_what
    trainer = official_trainer(500, (300, 400)) if train_what == "ft" else official_trainer(100, (60, 80))
    return video_experiment(model, dataset, dataset, trainer, num_classes=classes)


for _variant in ("memdpc_r2d3d18_lc", "memdpc_r2d3d34_lc"):
    for _dataset, _classes in (("ucf101", 101), ("hmdb51", 51)):
        register_experiment(f"{_variant}_{_dataset}")(
            lambda v=_variant, d=_dataset, c=_classes: _classifier(v, d, c, "ft"))
        register_experiment(f"{_variant}_{_dataset}_linear")(
            lambda v=_variant, d=_dataset, c=_classes: _classifier(v, d, c, "last"))


# --- CPU small runs: `python -m tools.make_video_clips --out=data/moving_clips` ------------------------------------
# memdpc_tiny (64 px, 8 x 5 frames at downsample 1), batch 8, Adam 1e-3 constant; our schedule for a CPU.
def _small_runtime() -> RuntimeConfig:
    return RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False)


def _small_trainer(steps: int) -> TrainerConfig:
    trainer = official_trainer(1, (), batch=8)
    trainer.train_steps = trainer.steps_per_loop = trainer.steps_per_epoch = steps
    trainer.log_every_n_steps = 10
    return trainer


def _small(model, steps: int, **task) -> ExperimentConfig:
    cfg = video_experiment(model, "moving_clips", "ucf101", _small_trainer(steps), num_classes=4,
                           runtime=_small_runtime(), **task)
    for data in (cfg.train_data, cfg.eval_data):
        data.downsample = 1
    return cfg


@register_experiment("memdpc_tiny_moving_clips")
def memdpc_tiny_moving_clips() -> ExperimentConfig:
    """Pretext on the generated clips: 300 steps of batch 8."""
    return _small(model_config("memdpc_tiny"), 300)


@register_experiment("memdpc_tiny_lc_moving_clips_linear")
def memdpc_tiny_lc_moving_clips_linear() -> ExperimentConfig:
    """Linear probe (train_what=last) on the pretext run's weights: task.pretext_weights=RUN/model.keras."""
    model = model_config("memdpc_tiny_lc")
    model.num_seq, model.train_what = 8, "last"
    return _small(model, 200, pretext_model="memdpc_tiny")

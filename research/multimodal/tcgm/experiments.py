"""TCGM experiments: the authors' 20 Newsgroups recipe and a CPU small run on the two halves of the digits scans.

Recipe (20news_dataset/experiment/main.py, dataset/dataprepare.py, models/model.py; spec card tcgm.md):
4 categories, headers/footers/quotes removed, TfidfVectorizer() on the training text, 3 views = TF-IDF columns
0-3999, 4000-7999, 8000-11999; the first 500 training documents labeled; batch 64 without shuffling; Adam 1e-5
(torch defaults: betas 0.9 / 0.999, eps 1e-8) per view net; 500 epochs; TC ("MIG") term alpha = 1 over
modality pairs once every view's training accuracy exceeds 0.9. One step here = a labeled batch + an
unlabeled batch of the whole training split (README "Known differences"); an epoch = one pass over the
training split. configs/tcgm/newsgroups_8xb8.yaml runs it on 8 GPUs.
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
from research.multimodal.tcgm.config import MultiViewDataConfig, TcgmTaskConfig, TcgmTrainingConfig


def adam_trainer(epochs: int, batch: int, lr: float) -> TrainerConfig:
    """main.py / models/model.py: Adam at a constant rate, torch's betas and eps."""
    return TrainerConfig(
        epochs=epochs,
        global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="constant", base_lr=lr),
        checkpoints_to_keep=3,
        log_every_n_steps=100,
    )


def tcgm_experiment(model, num_classes: int, train: MultiViewDataConfig, evaluation: MultiViewDataConfig,
                    trainer: TrainerConfig, training: TcgmTrainingConfig,
                    runtime: RuntimeConfig | None = None) -> ExperimentConfig:
    return ExperimentConfig(
        task=TcgmTaskConfig(num_classes=num_classes),
        model=model,
        train_data=train,
        eval_data=evaluation,
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model", "tflite"), verify_examples=8, atol=1e-5),
        training=training,
    )


def newsgroups(split: str) -> MultiViewDataConfig:
    return MultiViewDataConfig(source="newsgroups", path="20news", split=split, num_labeled=500 if split == "train" else -1)


@register_experiment("tcgm_mlp512_newsgroups")
def tcgm_mlp512_newsgroups() -> ExperimentConfig:
    """TCGM (main.py --mig 1 --thresh 0.9 --alpha 1.0) on the 4-category 20 Newsgroups TF-IDF views."""
    return tcgm_experiment(model_config("tcgm_mlp512"), 4, newsgroups("train"), newsgroups("test"),
                           adam_trainer(500, 64, 1e-5), TcgmTrainingConfig())


@register_experiment("tcgm_mlp512_newsgroups_supervised")
def tcgm_mlp512_newsgroups_supervised() -> ExperimentConfig:
    """The supervised-only baseline (main.py without --mig): the labeled 500 documents only."""
    return tcgm_experiment(model_config("tcgm_mlp512"), 4, newsgroups("train"), newsgroups("test"),
                           adam_trainer(500, 64, 1e-5), TcgmTrainingConfig(alpha=0.0))


# --- CPU small run: `python -m tools.make_multiview_features --source=digits --out=data/digits_views` ----------
# 1,433 training scans (the first 143 = 10 % labeled) / 364 test scans; views = left / right 8 x 4 halves.
# Our choices for a tiny net (the authors' 1e-5 is for 500 epochs of 4,000-wide inputs): Adam 1e-3, batch 32,
# 2,000 steps, reshuffled streams.
SMALL_STEPS = 2000


def digits(split: str) -> MultiViewDataConfig:
    return MultiViewDataConfig(source="csd", path="digits_views", split=split, views=("left", "right"),
                               num_labeled=143 if split == "train" else -1, shuffle=True)


def small_trainer() -> TrainerConfig:
    trainer = adam_trainer(1, 32, 1e-3)
    trainer.train_steps = SMALL_STEPS
    trainer.steps_per_loop = SMALL_STEPS // 4
    trainer.log_every_n_steps = 250
    return trainer


SMALL_RUNTIME = dict(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False)


@register_experiment("tcgm_tiny_digits")
def tcgm_tiny_digits() -> ExperimentConfig:
    return tcgm_experiment(model_config("tcgm_tiny"), 10, digits("train"), digits("test"), small_trainer(),
                           TcgmTrainingConfig(), RuntimeConfig(**SMALL_RUNTIME))


@register_experiment("tcgm_tiny_digits_supervised")
def tcgm_tiny_digits_supervised() -> ExperimentConfig:
    return tcgm_experiment(model_config("tcgm_tiny"), 10, digits("train"), digits("test"), small_trainer(),
                           TcgmTrainingConfig(alpha=0.0), RuntimeConfig(**SMALL_RUNTIME))

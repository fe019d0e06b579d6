"""ExchNet experiments: the five fine-grained datasets with the spec's recipe, and the digits run of the card.

Fine-grained (spec "Hyper-parameters", mostly unverified): ResNet-50 split after stage 3, M = 4 parts,
448 x 448 input, batch 64, SGD lr 1e-3 momentum 0.9, weight decay 1e-4 (guess), 30 epochs at a
constant rate (guess), one DCC / anchor step per epoch on ADSH's m = 2000 sampled database items,
gamma 200 (ADSH). Training images form the database, test images are the queries. Code length q = 48
(the paper's longest); `--params_override=model.code_bits=12` for the other columns of its table.
Augmentation (guess): random-resized crop of 50-100% area and flips for training; evaluation resizes to
448 / 0.875 and centre-crops 448.

Digits (`python -m tools.make_digits`): the tiny network on 64 px digits with 12-bit codes, train split as
the database and val as the queries; 2 CPU cores, under 5 minutes (card, "Measured").
"""

from __future__ import annotations

import dataclasses

from official.core.config import (
    DataConfig,
    ExperimentConfig,
    ExportConfig,
    OptimizerConfig,
    RuntimeConfig,
    ScheduleConfig,
    TrainerConfig,
    model_config,
)
from official.core.registry import register_experiment
from official.tasks.classification_experiments import digits_data
from research.retrieval.exchnet.config import ExchNetTrainingConfig, RetrievalTaskConfig

# source, root folder, training split, test split, classes (each dataset's official split)
FINE_GRAINED = {
    "cub": ("cub", "CUB_200_2011", "train", "test", 200),
    "aircraft": ("aircraft", "fgvc-aircraft-2013b", "trainval", "test", 100),
    "cars": ("cars", "stanford_cars", "train", "test", 196),
    "food101": ("food101", "food-101", "train", "test", 101),
    "nabirds": ("nabirds", "nabirds", "train", "test", 555),
}


def fine_grained_data(dataset: str, training: bool, image_size: int = 448) -> DataConfig:
    source, root, train_split, test_split, _ = FINE_GRAINED[dataset]
    return DataConfig(
        source=source,
        path=f"{root}/{train_split if training else test_split}",
        image_size=image_size,
        shuffle_buffer=10_000,
        random_resized_crop=training,
        rrc_scale=(0.5, 1.0),
        horizontal_flip=training,
        crop_pct=0.875,
    )


def exchnet_experiment(dataset: str) -> ExperimentConfig:
    classes = FINE_GRAINED[dataset][4]
    return ExperimentConfig(
        task=RetrievalTaskConfig(num_classes=classes),
        model=model_config("exchnet_resnet50", code_bits=48),
        train_data=fine_grained_data(dataset, True),
        eval_data=fine_grained_data(dataset, False),
        trainer=TrainerConfig(
            epochs=30,
            global_batch_size=64,
            lr_reference_batch=64,
            optimizer=OptimizerConfig(name="sgd", momentum=0.9),
            lr_schedule=ScheduleConfig(name="constant", base_lr=1e-3),
            weight_decay=1e-4,
            validation_every_n_loops=0,
        ),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none"),
        training=ExchNetTrainingConfig(),
    )


def _register(dataset: str) -> None:
    name = f"exchnet_resnet50_{dataset}"

    def make() -> ExperimentConfig:
        return exchnet_experiment(dataset)

    make.__doc__ = f"ExchNet, ResNet-50, 448 px, 48-bit codes on {FINE_GRAINED[dataset][1]} (spec recipe)."
    register_experiment(name)(make)


for _dataset in FINE_GRAINED:
    _register(_dataset)


def digits_retrieval_data(split: str, training: bool) -> DataConfig:
    return dataclasses.replace(digits_data(split, training), image_size=64)


@register_experiment("exchnet_tiny_digits")
def exchnet_tiny_digits() -> ExperimentConfig:
    """The tiny ExchNet on 64 px digits, 12-bit codes, Adam; the card's measured run (2 CPU cores)."""
    return ExperimentConfig(
        task=RetrievalTaskConfig(num_classes=10),
        model=model_config("exchnet_tiny", code_bits=12),
        train_data=digits_retrieval_data("train", True),
        eval_data=digits_retrieval_data("val", False),
        trainer=TrainerConfig(
            epochs=20,  # 440 steps (22 a loop = one DCC step per epoch); ~3.5 min of training on 2 loaded cores
            global_batch_size=64,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="cosine", base_lr=3e-3),
            validation_every_n_loops=0,
            checkpoints_to_keep=2,
            log_every_n_steps=22,
        ),
        runtime=RuntimeConfig(deterministic=True, intra_op_threads=2, inter_op_threads=2),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=16),
        training=ExchNetTrainingConfig(dcc_sample=0),
    )

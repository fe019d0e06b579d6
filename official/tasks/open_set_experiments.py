"""Open-set experiments in a few fields: a model, an open-set dataset and ARPL's split item.

`osr_experiment` wires the known classes into the training and evaluation data (`data.classes`) and the
unknown ones into `task.unknown_data`, with the recipe of ARPL's `osr.py` as defaults (RPL, ECCV 2020):
batch 64, SGD lr 0.1 momentum 0.9 weight decay 1e-4, 100 epochs, x0.1 at epochs 30/60/90; Tiny ImageNet
Adam lr 1e-3 without weight decay at 64 px. Images enter at 32 px (Tiny ImageNet 64) on the 0-1 scale (ToTensor, no mean
subtraction); training pads 4 and crops back plus a horizontal flip, except MNIST (resize only), as
`datasets/osr_dataloader.py` does; scikit-learn's digits (the small runs) are treated like MNIST. The paper's figure is the mean over the 5 items (`task`/`data` of
each item: `known_unknown(dataset, item)`); methods override what their recipe changes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

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
from official.data.open_set_splits import known_unknown
from official.tasks import classification_experiments as cls_data
from official.tasks.open_set_config import OpenSetTaskConfig

ZERO_ONE = {"mean": (0.0, 0.0, 0.0), "std": (255.0, 255.0, 255.0)}  # torchvision ToTensor


def _osr_data(dataset: str, split: str, training: bool) -> DataConfig:
    """The known-class reader of `dataset` (before the class subset), with ARPL's transforms."""
    flip_and_shift = training and dataset not in ("mnist", "digits")  # a flipped digit is another glyph
    common = {"random_resized_crop": False, "pad_crop": 4 if flip_and_shift else 0,
              "horizontal_flip": flip_and_shift, "crop_pct": 1.0, **ZERO_ONE}
    if dataset == "digits":
        return dataclasses.replace(cls_data.digits_data(split, training), **common)
    if dataset == "mnist":
        return dataclasses.replace(cls_data.mnist_data(split, training), image_size=32, **common)
    if dataset == "svhn":
        name = "train" if split == "train" else "test"
        return DataConfig(source="svhn", path=f"svhn/{name}_32x32.mat", image_size=32, shuffle_buffer=73_257, **common)
    if dataset in ("cifar10", "cifar_plus10", "cifar_plus50"):
        return dataclasses.replace(cls_data.cifar10_data(split, training), **common)
    if dataset == "tinyimagenet":
        return DataConfig(source="tinyimagenet", path=f"tiny-imagenet-200/{'train' if split == 'train' else 'val'}",
                          image_size=64, shuffle_buffer=100_000, **common)
    raise ValueError(f"osr_experiment: no reader for open-set dataset {dataset!r}")


def _unknown_data(dataset: str, unknown: tuple[int, ...]) -> DataConfig:
    """The test images of the unknown classes: the known set's test file, or CIFAR-100 test for CIFAR+N."""
    if dataset in ("cifar_plus10", "cifar_plus50"):
        base = dataclasses.replace(cls_data.cifar100_data("val", False), **ZERO_ONE, crop_pct=1.0)
    else:
        base = _osr_data(dataset, "val", False)
    return dataclasses.replace(base, classes=unknown)


def osr_experiment(
    model: str,
    dataset: str,
    item: int = 0,
    trainer: TrainerConfig | None = None,
    export: ExportConfig | None = None,
    runtime: RuntimeConfig | None = None,
    **model_values: Any,
) -> ExperimentConfig:
    """Registered open-set model `model` on `dataset` (mnist, svhn, cifar10, cifar_plus10, cifar_plus50,
    tinyimagenet, digits), ARPL split `item`; `model_values` override the variant's constructor arguments
    (`classes` defaults to the number of known classes)."""
    known, unknown = known_unknown(dataset, item)
    tiny = dataset == "tinyimagenet"
    trainer = trainer or TrainerConfig(
        epochs=100,
        global_batch_size=64,
        weight_decay=0.0 if tiny else 1e-4,  # osr.py passes weight_decay to SGD only, not to Adam
        optimizer=OptimizerConfig(name="adam" if tiny else "sgd", momentum=0.9),
        lr_schedule=ScheduleConfig(name="multistep", base_lr=1e-3 if tiny else 0.1, milestones=(30.0, 60.0, 90.0), decay_rate=0.1),
    )
    return ExperimentConfig(
        task=OpenSetTaskConfig(num_classes=len(known), unknown_data=_unknown_data(dataset, unknown)),
        model=model_config(model, **{"classes": len(known), **model_values}),
        train_data=dataclasses.replace(_osr_data(dataset, "train", True), classes=known),
        eval_data=dataclasses.replace(_osr_data(dataset, "val", False), classes=known),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=export or ExportConfig(formats=("saved_model", "tflite"), quantize="none"),
    )


def digits_osr_experiment(model: str, item: int = 0, trainer: TrainerConfig | None = None, **model_values: Any) -> ExperimentConfig:
    """The small run: 6 known / 4 unknown scikit-learn digits (MNIST's split lists) at 32 px, on 2 CPU
    cores in minutes (`python -m tools.make_digits` writes the folders). Adam, cosine from 3e-3 after a
    one-epoch warm-up, batch 64, 30 epochs unless `trainer` says otherwise."""
    trainer = trainer or TrainerConfig(
        epochs=30,
        global_batch_size=64,
        optimizer=OptimizerConfig(name="adam"),
        lr_schedule=ScheduleConfig(name="cosine", base_lr=3e-3, warmup_epochs=1, warmup_start_lr=1e-4),
        steps_per_loop=100,
        checkpoints_to_keep=3,
    )
    # Reproducible like the make-demo recipe: seeded, ordered data and 2 TF threads per pool.
    runtime = RuntimeConfig(deterministic=True, intra_op_threads=2, inter_op_threads=2)
    return osr_experiment(model, "digits", item, trainer=trainer, runtime=runtime, **model_values)

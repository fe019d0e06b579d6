"""Declaring an image-classification experiment in a few fields, and the datasets classifiers share.

A classifier's `experiments.py` names its model, its data and its recipe; everything else (task, export
defaults, the train/val pair of a dataset) comes from here, so two classifiers on the same data differ
only in what actually differs. `digits_experiment` is the `make demo` recipe for any classifier.
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
    TaskConfig,
    TrainerConfig,
    model_config,
)


def digits_data(split: str, training: bool) -> DataConfig:
    """The embedded digits set (`python -m tools.make_digits`): 32x32, no flips (digits are not symmetric)."""
    return DataConfig(
        source="imagefolder",
        path=f"digits/{split}",
        image_size=32,
        shuffle_buffer=2048,
        cache=True,
        random_resized_crop=training,
        rrc_scale=(0.85, 1.0),
        rrc_ratio=(0.9, 1.1),
        horizontal_flip=False,
        crop_pct=1.0,
    )


def imagenet_data(split: str, training: bool) -> DataConfig:
    """ImageNet-1k folders (one sub-folder per synset); eval resizes to 224 / crop_pct and centre-crops 224."""
    return DataConfig(
        source="imagefolder",
        path=f"imagenet/{split}",
        image_size=224,
        shuffle_buffer=10_000,
        random_resized_crop=training,
        horizontal_flip=True,
        crop_pct=0.875,
    )


def _cifar_data(train_path: str, val_path: str, mean: tuple, std: tuple, split: str, training: bool) -> DataConfig:
    """CIFAR pickles at 32x32 with the standard augmentation (He et al. 2016): zero-pad 4 pixels, random
    32x32 crop, horizontal flip. Evaluation feeds the 32x32 image unchanged (crop_pct=1)."""
    return DataConfig(
        source="cifar",
        path=train_path if split == "train" else val_path,
        image_size=32,
        shuffle_buffer=50_000,
        random_resized_crop=False,
        pad_crop=4 if training else 0,
        horizontal_flip=training,
        crop_pct=1.0,
        mean=mean,
        std=std,
    )


def cifar10_data(split: str, training: bool) -> DataConfig:
    """CIFAR-10 python pickles (cifar-10-python.tar.gz): data_batch_1..5 train, test_batch val.
    Mean/std: the usual per-channel CIFAR-10 training-set values x 255."""
    return _cifar_data("cifar10/cifar-10-batches-py/data_batch_*", "cifar10/cifar-10-batches-py/test_batch",
                       (125.31, 122.96, 113.86), (62.99, 62.09, 66.70), split, training)


def cifar100_data(split: str, training: bool) -> DataConfig:
    """CIFAR-100 python pickles (cifar-100-python.tar.gz), the 100 fine labels: train / test.
    Mean/std: the usual per-channel CIFAR-100 training-set values x 255."""
    return _cifar_data("cifar100/cifar-100-python/train", "cifar100/cifar-100-python/test",
                       (129.31, 124.06, 112.43), (68.16, 65.38, 70.43), split, training)


def mnist_data(split: str, training: bool) -> DataConfig:
    """MNIST IDX files (train-/t10k-images-idx3-ubyte.gz, labels beside them), 28x28 grey as RGB, no
    augmentation; normalised with MNIST's mean/std (0.1307, 0.3081 on the 0-1 scale)."""
    return DataConfig(
        source="mnist",
        path=f"mnist/{'train' if split == 'train' else 't10k'}-images-idx3-ubyte.gz",
        image_size=28,
        shuffle_buffer=60_000,
        random_resized_crop=False,
        horizontal_flip=False,
        crop_pct=1.0,
        mean=(33.32,) * 3,
        std=(78.57,) * 3,
    )


DATASETS = {
    "digits": (digits_data, 10),
    "imagenet": (imagenet_data, 1000),
    "cifar10": (cifar10_data, 10),
    "cifar100": (cifar100_data, 100),
    "mnist": (mnist_data, 10),
}


def classification_experiment(
    model: str,
    dataset: str,
    trainer: TrainerConfig,
    export: ExportConfig | None = None,
    runtime: RuntimeConfig | None = None,
    data: dict[str, Any] | None = None,
    train_data: dict[str, Any] | None = None,
    **model_values: Any,
) -> ExperimentConfig:
    """An experiment training registered classifier `model` on a `DATASETS` key (digits, imagenet, cifar10, ...).

    `data` overrides DataConfig fields of both splits, `train_data` those of the training split only
    (augmentation); `model_values` override the variant's constructor arguments (`classes` defaults to
    the dataset's class count).
    """
    if dataset not in DATASETS:
        raise ValueError(f"classification_experiment: dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    make_data, num_classes = DATASETS[dataset]
    data = dict(data or {})
    return ExperimentConfig(
        task=TaskConfig(name="image_classification", num_classes=num_classes),
        model=model_config(model, **{"classes": num_classes, **model_values}),
        train_data=dataclasses.replace(make_data("train", training=True), **{**data, **(train_data or {})}),
        eval_data=dataclasses.replace(make_data("val", training=False), **data),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=export or ExportConfig(formats=("saved_model", "tflite"), quantize="int8"),
    )


def digits_experiment(model: str, **model_values: Any) -> ExperimentConfig:
    """The `make demo` recipe for any classifier on scikit-learn digits at 32x32 (2 CPU cores, minutes).

    Adam, cosine from 6e-3 after one warm-up epoch, batch 128, 40 epochs (440 steps); BN momentum 0.9
    (keras.applications' 0.999 leaves the eval statistics unsettled on a run this short); int8 TFLite
    calibrated on 200 images. A step of batch 128 costs ~2x one of batch 32 on 2 cores, so the run sees
    2.7x the images of the former batch 32 x 15 epochs for ~1.25x the CPU time: MobileNeXt-0.35 val top-1
    over training seeds 0-4 went from 93.7-96.4% (seeds 0-2) to 97.3-98.4% (benchmarks/results/
    demo_runs.json, "recipe_search", with the other recipes tried).
    """
    return classification_experiment(
        model,
        "digits",
        trainer=TrainerConfig(
            epochs=40,
            global_batch_size=128,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="cosine", base_lr=6e-3, warmup_epochs=1, warmup_start_lr=1e-4),
            steps_per_loop=55,  # 5 epochs: a checkpoint (and validation) per 11-step epoch cost ~0.25 s each
            checkpoints_to_keep=3,
        ),
        # Bit-identical reruns: seeded, ordered data (+ op determinism on a GPU) and 2 TF threads per pool
        # (the intra-op count changes how CPU kernels split their sums, so every machine uses the same).
        runtime=RuntimeConfig(deterministic=True, intra_op_threads=2, inter_op_threads=2),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="int8", representative_examples=200),
        **{"input_shape": (32, 32, 3), "bn_momentum": 0.9, **model_values},
    )

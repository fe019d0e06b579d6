"""Runs a few training steps of a BatchNorm-free convnet under a given strategy; saves loss and weights.

Used by test_trainer.py in subprocesses (logical CPU devices and TF_CONFIG must be set before TF starts).
BatchNorm is left out on purpose: per-replica batch statistics would make mirrored and single-device
losses differ for reasons that have nothing to do with the trainer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--strategy", required=True)
    parser.add_argument("--model_dir", required=True)
    parser.add_argument("--data", required=True, help="digits folder with train/ and val/")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--logical_cpus", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    import keras
    import numpy as np

    from official.core import config as config_lib
    from official.core import registry, trainer

    @keras.saving.register_keras_serializable(package="tests")
    class TinyConvNet(keras.Model):
        def __init__(self, classes: int = 10, input_shape: tuple[int, int, int] = (32, 32, 3), **kwargs):
            inputs = keras.Input(input_shape)
            x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inputs)
            x = keras.layers.Conv2D(16, 3, strides=2, activation="relu")(x)
            x = keras.layers.GlobalAveragePooling2D()(x)
            super().__init__(inputs, keras.layers.Dense(classes)(x), **kwargs)

    registry.register_variant("tiny_convnet_test", TinyConvNet)
    data = dict(
        image_size=32, random_resized_crop=False, horizontal_flip=False, crop_pct=1.0, deterministic=True, shuffle_buffer=1
    )
    cfg = config_lib.ExperimentConfig(
        experiment="distributed_worker",
        task=config_lib.TaskConfig(name="image_classification", num_classes=10),
        model=config_lib.model_config("tiny_convnet_test"),
        train_data=config_lib.DataConfig(path=os.path.join(args.data, "train"), **data),
        eval_data=config_lib.DataConfig(path=os.path.join(args.data, "val"), **data),
        trainer=config_lib.TrainerConfig(
            train_steps=args.steps,
            steps_per_loop=args.steps,
            global_batch_size=32,
            optimizer=config_lib.OptimizerConfig(name="sgd", momentum=0.9),
            lr_schedule=config_lib.ScheduleConfig(name="constant", base_lr=0.05),
        ),
        runtime=config_lib.RuntimeConfig(strategy=args.strategy, num_logical_cpus=args.logical_cpus, jit_compile="false"),
    )
    results, model = trainer.run_experiment(cfg, args.model_dir, mode="train", return_model=True)
    np.savez(args.out, *[np.asarray(w) for w in model.get_weights()])
    with open(args.out + ".json", "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()

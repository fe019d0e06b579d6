"""Runs a few training steps of a BatchNorm-free convnet under a given strategy; saves loss and weights.

Used by test_trainer.py in subprocesses (logical CPU devices and TF_CONFIG must be set before TF starts).
BatchNorm is left out on purpose: per-replica batch statistics would make mirrored and single-device
losses differ for reasons that have nothing to do with the trainer.
`--record=PATH` also writes (JSON) a digest of every training example this process's input pipeline
produced, so a test can see which examples each worker trained on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def record_training_examples(seen: list[str]) -> None:
    """Makes every training pipeline the image-classification task builds append a digest of each
    example (its preprocessed pixels) to `seen` as the trainer reads it."""
    import numpy as np
    import tensorflow as tf

    from official.tasks.image_classification import ImageClassificationTask

    build = ImageClassificationTask.build_inputs

    def digest(images: tf.Tensor) -> np.ndarray:
        seen.extend(hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest()[:16] for x in images.numpy())
        return np.int32(0)

    def recording(self, data, training, global_batch_size, input_context=None):
        ds = build(self, data, training, global_batch_size, input_context=input_context)
        if not training:
            return ds

        def tap(images, labels):
            done = tf.py_function(digest, [images], tf.int32)
            with tf.control_dependencies([done]):
                return tf.identity(images), labels

        return ds.map(tap)

    ImageClassificationTask.build_inputs = recording


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--strategy", required=True)
    parser.add_argument("--model_dir", required=True)
    parser.add_argument("--data", required=True, help="ImageNet-layout folder with train/ and val/ (10 classes)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32, help="global batch size")
    parser.add_argument("--logical_cpus", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--record", default="", help="JSON file for the digests of the examples trained on")
    args = parser.parse_args()

    import numpy as np

    from official.core import trainer
    from tests.tiny_models import register, tiny_experiment

    register()
    seen: list[str] = []
    if args.record:
        record_training_examples(seen)
    cfg = tiny_experiment(args.data, args.steps, args.strategy, args.batch, logical_cpus=args.logical_cpus)
    results, model = trainer.run_experiment(cfg, args.model_dir, mode="train", return_model=True)
    np.savez(args.out, *[np.asarray(w) for w in model.get_weights()])
    with open(args.out + ".json", "w") as f:
        json.dump(results, f)
    if args.record:
        with open(args.record, "w") as f:
            json.dump(seen, f)


if __name__ == "__main__":
    main()

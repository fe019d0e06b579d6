"""Writes the model card's sample grid: the first N eval night images (top) above G_A2B's day translations.

    python -m research.generative.forkgan.sample_grid --experiment=forkgan_tiny_night_day \
        --model_dir=runs/forkgan_tiny_night_day --data_dir=data --out=research/generative/forkgan/samples/night_day.png
"""

from __future__ import annotations

from absl import app, flags

FLAGS = flags.FLAGS


def main(argv) -> None:
    del argv
    import numpy as np
    import tensorflow as tf

    import research.generative.forkgan.objective  # noqa: F401  (registration)
    from official.core import config as config_lib
    from official.core import trainer
    from official.core.file_io import write_bytes
    from official.training.gan.samples import grid

    cfg = config_lib.resolve(FLAGS.experiment, (), "", FLAGS.data_dir)
    model, task, step = trainer.restore_for_inference(cfg, FLAGS.model_dir)
    images = next(iter(task.build_inputs(cfg.eval_data, False, FLAGS.count)))["a"].numpy()
    picture = grid(images, np.asarray(model(images, training=False)))
    write_bytes(FLAGS.out, tf.io.encode_png(picture).numpy())
    print(f"wrote {FLAGS.out} ({FLAGS.count} images, checkpoint step {step})")


if __name__ == "__main__":
    flags.DEFINE_string("experiment", "forkgan_tiny_night_day", "A forkgan experiment.")
    flags.DEFINE_string("model_dir", None, "Training folder (newest checkpoint).", required=True)
    flags.DEFINE_string("data_dir", "data", "Root of the experiment's data path.")
    flags.DEFINE_string("out", "research/generative/forkgan/samples/night_day.png", "Output PNG.")
    flags.DEFINE_integer("count", 8, "Images in the grid.")
    app.run(main)

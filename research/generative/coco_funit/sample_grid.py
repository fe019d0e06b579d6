"""A sample grid of an exported COCO-FUNIT generator: first row the style images, first column the content
images, cell (i, j) = G(content_i, style_j), written as a PNG (the model card's picture).

    python -m research.generative.coco_funit.sample_grid --saved_model=exports/coco_funit/1 \
        --data=data/few_shot/test --out=research/generative/coco_funit/small_run_grid.png
"""

from __future__ import annotations

import numpy as np
from absl import flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("saved_model", None, "SavedModel folder written by tools.export.", required=True)
    flags.DEFINE_string("data", None, "Few-shot root (images_content/, images_style/).", required=True)
    flags.DEFINE_string("out", None, "PNG file to write.", required=True)
    flags.DEFINE_integer("rows", 4, "Content images (one per row, spread over the classes).")
    flags.DEFINE_integer("cols", 4, "Style images (one per column, spread over the classes).")
    flags.DEFINE_integer("size", 32, "Crop size the model was exported at.")


def pick(root: str, kind: str, n: int, size: int) -> np.ndarray:
    import tensorflow as tf

    from official.data import few_shot_images

    paths, _ = few_shot_images.labelled_paths(root, kind)
    chosen = [paths[i] for i in np.linspace(0, len(paths) - 1, n).astype(int)]
    transform = few_shot_images._eval_transform((size, size))
    return np.stack([transform(tf.io.decode_image(tf.io.read_file(p), channels=3, expand_animations=False)).numpy()
                     for p in chosen])


def grid(translate, content: np.ndarray, style: np.ndarray) -> np.ndarray:
    h, w = content.shape[1:3]
    canvas = np.ones(((len(content) + 1) * h, (len(style) + 1) * w, 3), np.float32)
    for j, s in enumerate(style):
        canvas[:h, (j + 1) * w:(j + 2) * w] = s
    for i, c in enumerate(content):
        canvas[(i + 1) * h:(i + 2) * h, :w] = c
        out = translate(np.repeat(c[None], len(style), 0), style)
        for j in range(len(style)):
            canvas[(i + 1) * h:(i + 2) * h, (j + 1) * w:(j + 2) * w] = out[j]
    return np.clip(np.round((canvas + 1) * 127.5), 0, 255).astype(np.uint8)


def main(argv) -> None:
    del argv
    import tensorflow as tf
    from PIL import Image

    serve = tf.saved_model.load(FLAGS.saved_model).signatures["serving_default"]
    content = pick(FLAGS.data, "images_content", FLAGS.rows, FLAGS.size)
    style = pick(FLAGS.data, "images_style", FLAGS.cols, FLAGS.size)
    image = grid(lambda c, s: serve(content=tf.constant(c), style=tf.constant(s))["image"].numpy(), content, style)
    Image.fromarray(np.kron(image, np.ones((3, 3, 1), np.uint8))).save(FLAGS.out)
    print(f"wrote {FLAGS.out} ({FLAGS.rows} contents x {FLAGS.cols} styles)")


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

"""What the COCO-FUNIT small run's exported generator reaches beyond KID, against baselines scored the same way:
(1) style dependence on the test split (content of the seen classes, one style image of each UNSEEN class:
research/generative/coco_funit/style_response.py), (2) reconstruction L1(G(x, x), x) on the test content.
Baselines: the identity (the content returned), the per-pixel mean test-style image everywhere (a constant),
and, when --untrained is given, a freshly initialised coco_funit_small.
    python -m benchmarks.coco_funit_small_run --saved_model=/tmp/cf/export/coco_funit_small_few_shot/1 \
        --data=data/few_shot/test --out=benchmarks/results/coco_funit_small_run.json
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import tensorflow as tf

from official.data import few_shot_images
from research.generative.coco_funit.sample_grid import pick
from research.generative.coco_funit.style_response import keras_translator, style_response


def class_images(root: str, kind: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    paths, labels = few_shot_images.labelled_paths(root, kind)
    images = pick(root, kind, len(paths), size)  # every file, in the listing order
    return images, np.asarray(labels)


def scores(translate, content, styles) -> dict:
    cos, ratio = style_response(translate, content, styles)
    recon = float(np.abs(np.asarray(translate(content, content)) - content).mean())
    return {"style_cosine": cos, "style_ratio": ratio, "recon_l1": recon}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved_model", required=True, help="tools.export folder (…/coco_funit_small_few_shot/1)")
    parser.add_argument("--data", required=True, help="few-shot test root (images_content/, images_style/)")
    parser.add_argument("--size", type=int, default=32, help="image side the model takes")
    parser.add_argument("--untrained", action="store_true", help="also score a fresh coco_funit_small (seed 0)")
    parser.add_argument("--out", default="benchmarks/results/coco_funit_small_run.json", help="result JSON")
    args = parser.parse_args()
    content, _ = class_images(args.data, "images_content", args.size)
    style_images, style_labels = class_images(args.data, "images_style", args.size)
    styles = [style_images[np.where(style_labels == k)[0][0]] for k in np.unique(style_labels)]
    serve = tf.saved_model.load(args.saved_model).signatures["serving_default"]
    model = lambda c, s: serve(content=tf.constant(c, tf.float32), style=tf.constant(s, tf.float32))["image"].numpy()  # noqa: E731
    mean_style = style_images.mean(0)
    result = {"content_images": len(content), "style_classes": len(styles), "model": scores(model, content, styles),
              "identity": scores(lambda c, s: c, content, styles),
              "mean_style_image": scores(lambda c, s: np.repeat(mean_style[None], len(c), 0), content, styles)}
    if args.untrained:
        import keras

        import research.generative.coco_funit  # noqa: F401  (registration)
        from official.core import registry

        keras.utils.set_random_seed(0)
        fresh = registry.create_model("coco_funit_small", image_size=(args.size, args.size))
        result["untrained"] = scores(keras_translator(fresh), content, styles)
    print(json.dumps(result, indent=1))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()

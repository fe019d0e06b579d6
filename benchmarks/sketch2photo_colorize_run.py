"""Scores Sketch2Photo's stage-2 small run (`sketch2photo_colorizer_tiny_domains`) on its aligned test pairs:
colour errors of the exported colouriser against the gray input and a constant mean image
(research/generative/sketch2photo/colour_error.py).
    python -m benchmarks.sketch2photo_colorize_run \
        --saved_model=exports/sketch2photo_colorizer_tiny_domains/1 --data=data/gray_colour \
        --out=benchmarks/results/sketch2photo_colorize_run.json
"""

from __future__ import annotations

import argparse
import json
import os

import tensorflow as tf

from benchmarks.common import write_json_atomically
from research.generative.sketch2photo.colour_error import colour_errors, load_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved_model", required=True, help="tools.export folder (…/sketch2photo_colorizer_tiny_domains/1)")
    parser.add_argument("--data", required=True, help="tools.make_domains --kind=gray_colour root (testA/ gray, testB/ colour)")
    parser.add_argument("--size", type=int, default=32, help="image side the model takes")
    parser.add_argument("--out", default="", help="write the scores to this JSON file")
    args = parser.parse_args()
    serve = tf.saved_model.load(args.saved_model).signatures["serving_default"]
    gray, colour = load_folder(os.path.join(args.data, "testA"), args.size), load_folder(os.path.join(args.data, "testB"), args.size)
    reference = load_folder(os.path.join(args.data, "trainB"), args.size)
    scores = colour_errors(lambda x: serve(image=tf.constant(x))["image"].numpy(), gray, colour, reference)
    result = {"saved_model": args.saved_model, "data": args.data, "test_pairs": len(gray), **scores}
    print(json.dumps(result, indent=2))
    if args.out:
        write_json_atomically(result, args.out)


if __name__ == "__main__":
    main()

"""A registered image-to-image generator converted to TFLite at a phone resolution, with its random initial
weights (conversion and accuracy do not depend on trained values), and checked against Keras: the file size,
max |TFLite - Keras| on random [-1, 1] images, the op list and the conversion time that a card quotes.
    python -m benchmarks.tflite_full_size --model=forkgan_gf64 --image_size=256,256 \
        --out=benchmarks/results/tflite_full_size_forkgan_gf64.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from benchmarks.common import write_json_atomically


def measure(model_name: str, image_size: tuple[int, int], quantize: str, examples: int, seed: int) -> dict:
    import keras

    from official.core import registry
    from official.core.export_tflite import convert_tflite, run_tflite, tflite_op_names

    keras.utils.set_random_seed(seed)
    model = registry.create_model(model_name, image_size=image_size)
    if len(model.inputs) != 1 or len(model.inputs[0].shape) != 4 or len(model.outputs) != 1:
        raise ValueError(f"{model_name} is not a one-image-in, one-image-out generator "
                         f"(inputs {[tuple(t.shape) for t in model.inputs]})")
    start = time.perf_counter()
    data = convert_tflite(model, quantize)
    seconds = time.perf_counter() - start
    x = np.random.default_rng(seed).uniform(-1, 1, (examples, *model.inputs[0].shape[1:])).astype(np.float32)
    want = np.asarray(model(x, training=False))
    got = run_tflite(data, x)
    return {"model": model_name, "image_size": list(image_size), "quantize": quantize,
            "parameters": int(model.count_params()), "tflite_mib": round(len(data) / 2**20, 2),
            "max_abs_diff": float(np.abs(got - want).max()), "examples": examples,
            "convert_s": round(seconds, 1), "ops": tflite_op_names(data)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="registered model whose builder takes image_size (e.g. forkgan_gf64)")
    parser.add_argument("--image_size", default="256,256", help="H,W of the converted input")
    parser.add_argument("--quantize", default="float16", choices=("none", "float16", "dynamic"),
                        help="TFLite weights: float32 (none), float16 or dynamic int8")
    parser.add_argument("--examples", type=int, default=2, help="random images compared against Keras")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the images")
    parser.add_argument("--out", default="", help="write the result to this JSON file")
    args = parser.parse_args()
    size = tuple(int(s) for s in args.image_size.split(","))
    if len(size) != 2:
        parser.error(f"--image_size: expected H,W, got {args.image_size!r}")
    from official.core.registry import RegistryError

    try:
        result = measure(args.model, size, args.quantize, args.examples, args.seed)
    except (RegistryError, ValueError, TypeError) as err:  # unknown model, no image_size, not image-to-image
        parser.error(f"--model={args.model}: {err}")
    print(json.dumps(result, indent=2))
    if args.out:
        write_json_atomically(result, args.out)


if __name__ == "__main__":
    main()

"""CPN inference speed (Keras 3 on JAX): images/s of CPN-DLA34 at 511x511, with and without flip test.

    KERAS_BACKEND=jax python benchmarks/cpn_inference.py [--model cpn_dla34] [--batch 1,8]
        [--dtype float32,bfloat16] [--steps 50] [--warmup 5]
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python benchmarks/cpn_inference.py --smoke   # tiny, CPU is fine

For every (dtype, batch) it times, after warm-up (compilation happens there), jitted functions of
  - "network": `model(images)`, the pre-NMS network body (backbone, heads, K x K pairing, RoIAlign
    and both classifiers: the TFLite export's graph),
  - "detect_noflip" / "detect_flip": `model.detect(images)`, the whole test-time pipeline with
    Gaussian soft-NMS and box merging, without / with horizontal-flip averaging (CPNDet's protocol;
    the paper's 43.3 / 26.2 FPS for DLA-34 on a V100 at batch 1 time this, image decoding excluded).
Each figure is batch x steps / seconds, synchronised with block_until_ready; inputs are random pixels
(speed does not depend on the content: every shape is fixed, K x K = 4,900 proposals, 1,000 enter
soft-NMS). Weights are random (no official weights exist); the model is built with the registered
variant's arguments.

Runs without TensorFlow: it imports keras, jax and numpy, and the CPN modules directly. The package
`official.vision.cpn` is entered without running its __init__ (which registers the experiment
configs and would import the data pipeline).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import tempfile
import time
import traceback
import types

os.environ.setdefault("KERAS_BACKEND", "jax")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="cpn_dla34", help="registered CPN variant (see official/vision/cpn/variants.py)")
    p.add_argument("--image_size", type=int, default=511, help="square input side (CPN trains and is timed at 511)")
    p.add_argument("--batch", default="1,8", help="comma-separated batch sizes")
    p.add_argument("--dtype", default="float32,bfloat16", help="comma-separated: float32 and/or bfloat16 (mixed)")
    p.add_argument("--modes", default="network,detect_noflip,detect_flip", help="comma-separated subset to time")
    p.add_argument("--steps", type=int, default=50, help="timed calls per measurement")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls first (compilation happens here)")
    p.add_argument("--smoke", action="store_true", help="cpn_dla34tiny, 128 px, batch 2, 2 steps: checks the script")
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/cpn_inference.json; "
                   "with --smoke, cpn_inference_smoke.json in the temp folder)")
    args = p.parse_args(argv)
    if args.smoke:
        args.model, args.image_size, args.batch, args.steps, args.warmup = "cpn_dla34tiny", 128, "2", 2, 1
    if args.out is None:
        args.out = (os.path.join(tempfile.gettempdir(), "cpn_inference_smoke.json") if args.smoke
                    else os.path.join(REPO, "benchmarks", "results", "cpn_inference.json"))
    return args


def cpn_modules():
    """(model module, variants module) of CPN, imported without `official.vision.cpn.__init__`."""
    name = "official.vision.cpn"
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(REPO, "official", "vision", "cpn")]
        sys.modules[name] = package
    return importlib.import_module(f"{name}.model"), importlib.import_module(f"{name}.variants")


def build(args: argparse.Namespace, dtype: str):
    import keras

    keras.mixed_precision.set_global_policy("mixed_bfloat16" if dtype == "bfloat16" else "float32")
    model_mod, variants = cpn_modules()
    kwargs = dict(variants.VARIANTS[args.model])
    kwargs["input_size"] = args.image_size
    model = model_mod.CPN(**kwargs)
    keras.mixed_precision.set_global_policy("float32")
    return model


def jitted(model, mode: str):
    """jax.jit of `mode` as a pure function of the model's variables and the images."""
    import jax
    import keras

    variables = model.trainable_variables + model.non_trainable_variables

    def run(values, images):
        with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))):
            if mode == "network":
                return model(images, training=False)
            out = model.detect(images, flip=(mode == "detect_flip"))
            return out["boxes"], out["scores"], out["classes"], out["num_detections"]

    fn = jax.jit(run)
    values = [v.value for v in variables]
    return lambda images: fn(values, images)


def time_one(fn, images, steps: int, warmup: int) -> dict:
    import jax

    start = time.perf_counter()
    for _ in range(max(warmup, 1)):
        jax.block_until_ready(fn(images))
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        out = fn(images)
    jax.block_until_ready(out)
    seconds = time.perf_counter() - start
    batch = int(images.shape[0])
    return {
        "images_per_s": batch * steps / seconds,
        "ms_per_batch": 1000.0 * seconds / steps,
        "warmup_s": compile_s,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import jax
    import keras
    import numpy as np

    if keras.backend.backend() != "jax":
        raise SystemExit(f"run with KERAS_BACKEND=jax (got {keras.backend.backend()})")
    device = jax.devices()[0]
    results = {
        "benchmark": "cpn_inference",
        "model": args.model,
        "image_size": args.image_size,
        "steps": args.steps,
        "warmup": args.warmup,
        "device": f"{device.platform}:{getattr(device, 'device_kind', '')}",
        "jax": jax.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "smoke": args.smoke,
        "runs": [],
    }
    rng = np.random.default_rng(0)
    for dtype in args.dtype.split(","):
        model = build(args, dtype)
        results.setdefault("parameters", model.count_params())
        for batch in (int(b) for b in args.batch.split(",")):
            images = jax.device_put(rng.uniform(0, 255, (batch, args.image_size, args.image_size, 3)).astype(np.float32))
            for mode in args.modes.split(","):
                row = {"dtype": dtype, "batch": batch, "mode": mode}
                try:
                    row.update(time_one(jitted(model, mode), images, args.steps, args.warmup))
                except Exception as err:  # record it (e.g. out of memory) and go on with the rest
                    row["error"] = f"{type(err).__name__}: {err}"[:500]
                    traceback.print_exc()
                results["runs"].append(row)
                shown = f"{row['images_per_s']:9.1f} images/s  {row['ms_per_batch']:8.2f} ms/batch" if "error" not in row else row["error"][:80]
                print(f"{args.model} {dtype:>8} batch {batch:>3} {mode:<14} {shown}", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    print(f"results written to {args.out}")
    return 0 if all("error" not in r for r in results["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Inference speed of the issue-13 networks on one GPU (images/s): RPL, OpenHybrid, ExchNet, ISP on JAX.

    python3 benchmarks/gpu_issue13.py [--models rpl,openhybrid,exchnet,isp] [--batches 1,64]
        [--precisions float32,bfloat16] [--windows 10] [--steps 20] [--warmup 5] [--out PATH]
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python benchmarks/gpu_issue13.py --smoke   # tiny, CPU, checks only

Each network is the registered full variant, built from its class with the variant's arguments (random
weights: speed does not depend on them) at the paper's input size, and timed as a jitted
`stateless_call` forward (inference mode) with benchmarks/gpu_pose.py `measure`: the first (compiling)
call alone, warm-up, then windows of synchronised steps; images/s from the median window.
  - rpl:        rpl_classifier32, 32x32, outputs distances + score (RPL, ECCV 2020)
  - openhybrid: openhybrid_classifier32, 32x32, logits + flow log-likelihood
  - exchnet:    exchnet_resnet50, 448x448, continuous hash code (+ parts, attention)
  - isp:        isp_hrnet32, 256x128, re-ID embedding + part map
The model packages' `__init__` import their experiments (TensorFlow); the device machine has no
TensorFlow, so the packages are entered bare and only the model files are imported.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import types

os.environ.setdefault("KERAS_BACKEND", "jax")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks.common import measure_models  # noqa: E402
from benchmarks.gpu_pose import measure  # noqa: E402

# name -> (package to enter bare, module, class, constructor arguments of the full variant, (h, w))
MODELS = {
    "rpl": ("official.vision.rpl", "official.vision.rpl.model", "RPLNet", {"classes": 6}, (32, 32)),
    "openhybrid": ("research.open_set.openhybrid", "research.open_set.openhybrid.model", "OpenHybrid", {}, (32, 32)),
    "exchnet": ("research.retrieval.exchnet", "research.retrieval.exchnet.model", "ExchNet", {}, (448, 448)),
    "isp": ("research.reid.isp", "research.reid.isp.model", "ISPNet", {"width": 32}, (256, 128)),
}


def enter_bare(package: str) -> None:
    """Registers `package` (and its parents) as empty packages, so `package.model` imports alone."""
    parts = package.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if name in sys.modules:
            continue
        module = types.ModuleType(name)
        module.__path__ = [os.path.join(REPO, *parts[:i])]
        sys.modules[name] = module


def build(name: str, input_hw: tuple[int, int] | None = None):
    import importlib

    package, module_name, cls_name, kwargs, hw = MODELS[name]
    enter_bare(package)
    cls = getattr(importlib.import_module(module_name), cls_name)
    hw = input_hw or hw
    return cls(**{**kwargs, "input_shape": (*hw, 3)}), hw


def bench_model(name: str, args) -> dict:
    import jax
    import keras
    import numpy as np

    result = {"model": name, "device": str(jax.devices()[0])}
    for precision in args.precision_list:
        keras.config.set_dtype_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
        model, hw = build(name, (64, 64) if args.smoke and name in ("exchnet", "isp") else None)
        keras.config.set_dtype_policy("float32")
        weights = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables])
        result["trainable_parameters"] = int(sum(np.prod(v.shape) for v in model.trainable_variables))
        result["input"] = list(hw)

        forward = jax.jit(lambda weights, x, model=model: model.stateless_call(*weights, x, training=False)[0])
        rows = {}
        for batch in args.batch_list:
            x = jax.device_put(np.random.default_rng(0).normal(size=(batch, *hw, 3)).astype("float32"))
            step = functools.partial(forward, weights, x)
            rows[str(batch)] = measure(step, jax.block_until_ready, batch, args.warmup, args.windows, args.steps)[0]
        result[precision] = rows
        print(f"  {name} {precision}: " + ", ".join(f"batch {b} {r['images_per_s']:.0f} img/s" for b, r in rows.items()),
              flush=True)
    return result


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {', '.join(MODELS)}")
    p.add_argument("--batches", default="1,64", help="comma-separated batch sizes")
    p.add_argument("--precisions", default="float32,bfloat16", help="float32 and/or bfloat16 (mixed_bfloat16 policy)")
    p.add_argument("--windows", type=int, default=10, help="timed windows; the median is reported")
    p.add_argument("--steps", type=int, default=20, help="steps per window")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps after the compiling call")
    p.add_argument("--smoke", action="store_true", help="batch 2, 1 window of 1 step, small ExchNet/ISP inputs")
    p.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "gpu_issue13.json"),
                   help="results JSON (written atomically)")
    args = p.parse_args(argv)
    if args.smoke:
        args.batches, args.windows, args.steps, args.warmup = "2", 1, 1, 0
    args.batch_list = [int(b) for b in args.batches.split(",")]
    args.precision_list = args.precisions.split(",")
    unknown = set(args.models.split(",")) - set(MODELS)
    if unknown:
        p.error(f"--models: unknown {sorted(unknown)}; expected any of {', '.join(MODELS)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    return measure_models(args.models.split(","), bench_model, args)


if __name__ == "__main__":
    sys.exit(main())

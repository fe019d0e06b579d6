"""Pieces every benchmark script needs the same way: the machine description of a CPU run, the jaxpr FLOP
count of a forward pass, and the loop that measures several models and writes one JSON atomically.

No TensorFlow or JAX import at module level: the GPU scripts run where TensorFlow is absent, the CPU ones
where JAX may be."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from typing import Any


def cpu_machine(shared_note: str) -> dict:
    """CPU model, core count, TF intra-op threads and versions for a CPU benchmark's JSON."""
    import tensorflow as tf

    cpu = ""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "shared": shared_note,
    }


def jaxpr_flops(fn: Callable, *args) -> float:
    """2 x multiply-adds of every convolution and matmul in the jaxpr of `fn`, nested jaxprs included (XLA's
    cost analysis does not count cuDNN custom calls)."""
    import jax
    import numpy as np

    total = 0.0

    def visit(jaxpr):
        nonlocal total
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "conv_general_dilated":
                out, kernel = eqn.outvars[0].aval, eqn.invars[1].aval
                spec = eqn.params["dimension_numbers"].rhs_spec  # (out, in, spatial...) positions
                total += 2.0 * np.prod(out.shape) * np.prod([kernel.shape[i] for i in spec[1:]])
            elif eqn.primitive.name == "dot_general":
                (contract, _), _ = eqn.params["dimension_numbers"]
                lhs = eqn.invars[0].aval
                total += 2.0 * np.prod(eqn.outvars[0].aval.shape) * np.prod([lhs.shape[i] for i in contract])
            for value in eqn.params.values():
                inner = getattr(value, "jaxpr", None)
                if inner is not None and hasattr(inner, "eqns"):
                    visit(inner)

    visit(jax.make_jaxpr(fn)(*args).jaxpr)
    return float(total)


def write_json_atomically(results: Any, path: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".")
    with os.fdopen(fd, "w") as f:
        json.dump(results, f, indent=2)
    os.replace(tmp, path)
    print(f"written {path}")


def measure_models(names: list[str], bench_model: Callable[[str, Any], dict], args: Any) -> int:
    """Run `bench_model(name, args)` for each name (a failure is recorded and the others still run), write
    `args.out` unless `args.smoke`; exit status 1 when any model failed."""
    results = {"host": platform.node(), "argv": sys.argv[1:], "models": {}}
    for name in names:
        try:
            results["models"][name] = bench_model(name, args)
        except Exception as err:  # one failing network leaves the others measured
            traceback.print_exc()
            results["models"][name] = {"error": repr(err)}
    results["tensorflow_imported"] = "tensorflow" in sys.modules
    if not args.smoke:
        write_json_atomically(results, args.out)
    print(json.dumps({k: v for k, v in results.items() if k != "models"}))
    return 0 if all("error" not in r for r in results["models"].values()) else 1


def median_seconds(fn: Callable[[], Any], steps: int, warmup: int) -> float:
    """Median wall time of `steps` calls of `fn` after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load_module(path: str, name: str):
    """A Python file by path (a zoo model.py without its package __init__, or the authors' file fetched
    outside the repo), registered in sys.modules under `name` (dataclasses look their module up there)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

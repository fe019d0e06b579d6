"""Point ops on CPU under TensorFlow: the C++ kernels (official/ops/kernels/point*.cc) against the
keras.ops composites of official/ops/point_ops.py.

    python benchmarks/point_ops_cpu.py [--points 16384] [--samples 2048] [--batches 1,8]
                                       [--radius 0.2] [--max_samples 32] [--steps 3] [--warmup 1]

(a) farthest_point_sample, `--points` -> `--samples` points, at each batch size in `--batches`;
(b) ball_query: `--samples` centres (the first points), radius `--radius`, `--max_samples` slots, on
    `--points` points, batch 1.
Points are uniform in [-1, 1]^3 (seed 0). Each figure is the median of `--steps` timed calls of a
tf.function after `--warmup` untimed ones (tracing happens there); the composite graphs are traced
inside `native.composite_ops()`, and their indices are checked equal to the kernel's. The machine may be
shared: the load average (os.getloadavg) before and after is recorded.
Results: benchmarks/results/point_ops_cpu.json (--out; --no_write for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.common import cpu_machine, median_seconds  # noqa: E402
from official.ops import native, point_ops  # noqa: E402

tf.get_logger().setLevel("ERROR")


def compare(name: str, make, args: tuple, steps: int, warmup: int, **settings) -> dict:
    """Times `make()` (a fresh tf.function) traced with the kernels and inside composite_ops()."""
    kernel = make()
    graph_ops = {n.op for n in kernel.get_concrete_function(*args).graph.as_graph_def().node}
    assert any(o.startswith("Zoo") for o in graph_ops), "the kernel was not used: is the library built?"
    out = {"op": name, **settings}
    want = kernel(*args).numpy()
    out["kernel_s"] = median_seconds(lambda: kernel(*args).numpy(), steps, warmup)
    with native.composite_ops():
        composite = make()
        got = composite(*args).numpy()
        out["composite_s"] = median_seconds(lambda: composite(*args).numpy(), steps, warmup)
    out["same_indices"] = bool(np.array_equal(got, want))
    out["speedup"] = out["composite_s"] / out["kernel_s"]
    print(f"{name} {settings}: kernel {out['kernel_s'] * 1e3:.1f} ms, composite {out['composite_s'] * 1e3:.1f} ms "
          f"(x{out['speedup']:.1f}), same indices: {out['same_indices']}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--points", type=int, default=16384, help="points per cloud")
    p.add_argument("--samples", type=int, default=2048, help="FPS samples = ball-query centres")
    p.add_argument("--batches", default="1,8", help="comma-separated FPS batch sizes")
    p.add_argument("--radius", type=float, default=0.2, help="ball-query radius")
    p.add_argument("--max_samples", type=int, default=32, help="ball-query slots per centre")
    p.add_argument("--steps", type=int, default=3, help="timed calls per figure (median)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls first")
    p.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "point_ops_cpu.json"))
    p.add_argument("--no_write", action="store_true", help="print only (smoke runs)")
    args = p.parse_args(argv)
    if native.library() is None:
        raise SystemExit(f"C++ kernels unavailable: {native.unavailable_reason()}")
    load_before = os.getloadavg()
    rng = np.random.default_rng(0)
    results = []
    for batch in [int(b) for b in args.batches.split(",")]:
        points = tf.constant(rng.uniform(-1, 1, (batch, args.points, 3)).astype(np.float32))
        results.append(compare(
            "farthest_point_sample",
            lambda: tf.function(lambda x: point_ops.farthest_point_sample(x, args.samples)),
            (points,), args.steps, args.warmup, batch=batch, points=args.points, samples=args.samples))
    points = tf.constant(rng.uniform(-1, 1, (1, args.points, 3)).astype(np.float32))
    centers = points[:, : args.samples]
    results.append(compare(
        "ball_query",
        lambda: tf.function(lambda x, c: point_ops.ball_query(x, c, args.radius, args.max_samples)),
        (points, centers), args.steps, args.warmup, batch=1, points=args.points, centers=args.samples,
        radius=args.radius, max_samples=args.max_samples))
    result = {
        "command": "python " + " ".join([os.path.relpath(__file__, REPO), *(argv if argv is not None else sys.argv[1:])]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": cpu_machine("other agents' jobs may run at the same time; see load_average_1_5_15"),
        "load_average_1_5_15": {"before": list(load_before), "after": list(os.getloadavg())},
        "settings": {"steps": args.steps, "warmup": args.warmup,
                     "statistic": "median seconds per call of a tf.function (forward only; indices have no gradient)"},
        "results": results,
    }
    print(json.dumps({"speedups": {f"{r['op']}_b{r['batch']}": round(r["speedup"], 2) for r in results}}))
    if not args.no_write:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

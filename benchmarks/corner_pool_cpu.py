"""Corner pooling on CPU: the C++ kernel (official/ops/kernels) against the keras.ops composite.

    python benchmarks/corner_pool_cpu.py [--steps 7] [--warmup 2] [--train_steps 10]

(a) the pool alone, forward + backward (the registered gradient vs TensorFlow's gradient of the
    composite) in a tf.function, on CPN-sized tensors, for a height pool ("top") and a width pool
    ("left"); the composite also under XLA (jit_compile=True: what XLA runs get).
(b) one training step of the `cpn_dla34tiny_shapes` experiment (batch 8, the trainer's model,
    optimizer and losses, no XLA as on CPU) on a batch of the synthetic shapes dataset, at the
    experiment's 64 px (pools on (8, 16, 16, 16)) and, to see where the pools start to matter, with
    the input raised to 256 px (pools on (8, 64, 64, 16)).
Each figure is the median of `--steps` timed calls after `--warmup` untimed ones (tracing happens
there); the composite graphs are traced inside `native.composite_ops()`. The machine may be shared:
the load average before and after is recorded. Results: benchmarks/results/corner_pool_cpu.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.common import cpu_machine, median_seconds  # noqa: E402
from official.ops import native  # noqa: E402
from official.ops.corner_pool import corner_pool  # noqa: E402

tf.get_logger().setLevel("ERROR")  # the retracing notes of the per-configuration tf.functions

POOL_SHAPES = [(8, 128, 128, 64), (2, 128, 128, 128)]


def pool_step(direction: str, jit: bool):
    @tf.function(jit_compile=jit)
    def step(x, dy):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = corner_pool(x, direction)
        return y, tape.gradient(y, x, output_gradients=dy)

    return step


def bench_pool(shape: tuple, direction: str, steps: int, warmup: int) -> dict:
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=shape).astype(np.float32))
    dy = tf.constant(rng.normal(size=shape).astype(np.float32))
    kernel = pool_step(direction, jit=False)
    out = {"shape": list(shape), "direction": direction}
    out["kernel_s"] = median_seconds(lambda: [t.numpy() for t in kernel(x, dy)], steps, warmup)
    with native.composite_ops():
        for name, jit in (("composite_s", False), ("composite_xla_s", True)):
            fn = pool_step(direction, jit=jit)
            out[name] = median_seconds(lambda fn=fn: [t.numpy() for t in fn(x, dy)], steps, warmup)
    ops = {n.op for n in kernel.get_concrete_function(x, dy).graph.as_graph_def().node}
    assert "ZooCornerPool" in ops, "the kernel was not used: is the library built?"
    out["speedup_vs_composite"] = out["composite_s"] / out["kernel_s"]
    out["speedup_vs_composite_xla"] = out["composite_xla_s"] / out["kernel_s"]
    return out


def bench_train_step(steps: int, warmup: int, image_size: int) -> dict:
    import keras

    from official.core import config as config_lib
    from official.core import trainer
    from official.core.task import build_task
    from tools.make_shapes import write_shapes

    data = os.path.join(tempfile.mkdtemp(prefix="corner_pool_cpu_"), "shapes")
    write_shapes(data, 16, 0, size=64, seed=0, max_objects=2, crowd_fraction=0.0, min_object=0.3)
    override = (
        f"train_data.path={data}/train,train_data.annotations={data}/annotations/instances_train.json,"
        f"runtime.jit_compile=false,train_data.image_size={image_size},model.input_size={image_size}"
    )
    cfg = config_lib.resolve("cpn_dla34tiny_shapes", [], override)
    task = build_task(cfg)
    plan = trainer.plan_run(cfg, task, 1)
    x, y = next(iter(task.build_inputs(cfg.train_data, True, plan.global_batch_size)))

    def timed(composite: bool) -> tuple[float, float]:
        keras.utils.set_random_seed(0)
        model = trainer.build_compiled_model(cfg, task, plan, jit=False)
        losses = []

        def step():
            losses.append(float(model.train_on_batch(x, y, return_dict=True)["loss"]))

        if composite:
            with native.composite_ops():
                seconds = median_seconds(step, steps, warmup)
        else:
            seconds = median_seconds(step, steps, warmup)
        return seconds, losses[0]

    kernel_s, kernel_loss = timed(False)
    composite_s, composite_loss = timed(True)
    return {
        "experiment": "cpn_dla34tiny_shapes",
        "batch": plan.global_batch_size,
        "image_size": image_size,
        "pool_inputs": f"8 pools (4 per corner module) of (8, {image_size // 4}, {image_size // 4}, 16)",
        "kernel_s": kernel_s,
        "composite_s": composite_s,
        "speedup": composite_s / kernel_s,
        "first_step_loss": {"kernel": kernel_loss, "composite": composite_loss},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=7, help="timed calls per figure (median)")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls first")
    p.add_argument("--train_steps", type=int, default=10, help="timed training steps per implementation")
    p.add_argument("--train_sizes", default="64,256", help="comma-separated input sizes of the training step")
    p.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "corner_pool_cpu.json"))
    args = p.parse_args(argv)
    if native.library() is None:
        raise SystemExit(f"C++ kernels unavailable: {native.unavailable_reason()}")
    load_before = os.getloadavg()
    pools = [bench_pool(s, d, args.steps, args.warmup) for s in POOL_SHAPES for d in ("top", "left")]
    for r in pools:
        print(f"pool {r['direction']:>4} {tuple(r['shape'])}: kernel {r['kernel_s'] * 1e3:.1f} ms, composite "
              f"{r['composite_s'] * 1e3:.1f} ms (x{r['speedup_vs_composite']:.2f}), composite+XLA "
              f"{r['composite_xla_s'] * 1e3:.1f} ms (x{r['speedup_vs_composite_xla']:.2f})", flush=True)
    train = [bench_train_step(args.train_steps, args.warmup, int(n)) for n in args.train_sizes.split(",")]
    for r in train:
        print(f"train step {r['experiment']} at {r['image_size']} px: kernel {r['kernel_s'] * 1e3:.1f} ms, "
              f"composite {r['composite_s'] * 1e3:.1f} ms (x{r['speedup']:.2f})", flush=True)
    result = {
        "command": "python " + " ".join([os.path.relpath(__file__, REPO), *(argv if argv is not None else sys.argv[1:])]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": cpu_machine("other agents' jobs may run at the same time; see load_average"),
        "load_average_1_5_15": {"before": list(load_before), "after": list(os.getloadavg())},
        "settings": {"steps": args.steps, "warmup": args.warmup, "train_steps": args.train_steps,
                     "train_sizes": args.train_sizes,
                     "statistic": "median seconds per call (forward + backward for the pools)"},
        "pool_forward_backward": pools,
        "train_step": train,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

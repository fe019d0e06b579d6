"""Training and inference steps/s of the issue-15 networks (HMOR, PartAwarePose, Gesture+HandPose,
Crowd3DPose's 2D net) on one GPU, on JAX.

    python3 benchmarks/gpu_issue15.py [--models ...] [--precisions float32,bfloat16] [--out PATH]
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python benchmarks/gpu_issue15.py --smoke   # tiny variants, CPU

Each registered variant is built from its package's variants module alone (no TensorFlow), with random
weights, on its own example inputs (`model.example_inputs(batch)` where the model defines it, else standard
normal arrays of its input specs). The training step is stateless_call(training=True) -> a surrogate loss (mean square of
every floating output: the methods' own losses need labels and are a small share of the step) ->
jax.value_and_grad -> torch-style Adam (benchmarks/jax_adam.py), buffers donated; inference is the jitted
stateless_call(training=False). Timed with benchmarks/gpu_pose.py `measure`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks.common import measure_models  # noqa: E402
from benchmarks.gpu_issue13 import enter_bare  # noqa: E402
from benchmarks.gpu_pose import measure  # noqa: E402

CASES = {  # name -> (package, registered variant, smoke variant, batch)
    "hmor": ("research.three_d.hmor", "hmor_resnet50", "hmor_tiny", 8),
    "partaware_derived": ("research.three_d.partaware_pose", "partaware_pose_derived", "partaware_pose_tiny", 32),
    "partaware_baseline": ("research.three_d.partaware_pose", "partaware_pose_r50baseline", "partaware_pose_tiny", 32),
    "gesture": ("research.three_d.gesture_handpose", "gesture_handpose_r50", "gesture_handpose_tiny", 2),
    "crowd2d": ("research.three_d.crowd3dpose", "crowd3dpose_resnet50", "crowd3dpose_resnettiny", 32),
}


def build(name: str, smoke: bool, cases: dict = CASES):
    package, variant, tiny, batch = cases[name]
    enter_bare(package)
    importlib.import_module(f"{package}.variants")
    from official.core import registry

    model = registry.create_model(tiny if smoke else variant)
    batch = 2 if smoke else batch
    if hasattr(model, "example_inputs"):
        inputs = model.example_inputs(batch)
    else:
        import numpy as np

        specs = model.inputs if isinstance(model.inputs, (list, tuple)) else [model.inputs]
        rng = np.random.default_rng(0)
        arrays = [rng.normal(size=(batch, *s.shape[1:])).astype(s.dtype) for s in specs]
        inputs = arrays[0] if len(arrays) == 1 else arrays
        if isinstance(model.input, dict):  # named inputs (AVVP's three feature streams)
            inputs = {k: rng.normal(size=(batch, *t.shape[1:])).astype(t.dtype) for k, t in model.input.items()}
    return model, inputs, batch, (tiny if smoke else variant)


def bench_model(name: str, args) -> dict:
    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np

    from benchmarks.jax_adam import adam_init, adam_update

    result = {"case": name, "device": str(jax.devices()[0])}
    for precision in args.precision_list:
        keras.config.set_dtype_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
        model, inputs, batch, variant = build(name, args.smoke, args.cases)
        keras.config.set_dtype_policy("float32")
        inputs = jax.tree_util.tree_map(jnp.asarray, inputs)
        result.update(model=variant, batch=batch,
                      trainable_parameters=int(sum(np.prod(v.shape) for v in model.trainable_variables)))
        tv = [v.value for v in model.trainable_variables]
        ntv = [v.value for v in model.non_trainable_variables]

        def surrogate(out):
            leaves = [x for x in jax.tree_util.tree_leaves(out) if jnp.issubdtype(x.dtype, jnp.floating)]
            return sum(jnp.mean(jnp.square(x.astype(jnp.float32))) for x in leaves)

        def loss_fn(tv, ntv, x, model=model):
            out, ntv = model.stateless_call(tv, ntv, x, training=True)
            return surrogate(out), ntv

        def train_step(tv, ntv, adam, x, loss_fn=loss_fn):
            (loss, ntv), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv, ntv, x)
            tv, adam = adam_update(tv, grads, adam, lr=1e-4, weight_decay=0.0)
            return tv, ntv, adam, loss

        train = jax.jit(train_step, donate_argnums=(0, 1, 2))
        state = {"tv": tv, "ntv": ntv, "adam": adam_init(tv)}

        def one(state=state, train=train, inputs=inputs):
            state["tv"], state["ntv"], state["adam"], loss = train(state["tv"], state["ntv"], state["adam"], inputs)
            return loss

        row, first = measure(one, jax.block_until_ready, batch, args.warmup, args.windows, args.steps)
        row["steps_per_s"] = row["images_per_s"] / batch
        row["samples_per_s"] = row.pop("images_per_s")
        row["first_loss"], row["last_loss"] = float(first), float(one())

        infer = jax.jit(lambda tv, ntv, x, model=model: model.stateless_call(tv, ntv, x, training=False)[0])

        def fwd(state=state, infer=infer, inputs=inputs):
            return infer(state["tv"], state["ntv"], inputs)

        irow, _ = measure(fwd, jax.block_until_ready, batch, args.warmup, args.windows, args.steps)
        row["infer_samples_per_s"] = irow["images_per_s"]
        row["infer_first_call_s"] = irow["first_call_s"]
        result[precision] = row
        print(f"  {name} ({variant}) {precision}: train {row['steps_per_s']:.2f} steps/s "
              f"({row['samples_per_s']:.0f} samples/s) at batch {batch}, infer {row['infer_samples_per_s']:.0f} "
              f"samples/s; loss {row['first_loss']:.4g} -> {row['last_loss']:.4g}; compile {row['first_call_s']:.0f} s",
              flush=True)
    return result


def parse_args(argv=None, cases: dict = CASES, out_name: str = "gpu_issue15.json", doc: str = __doc__):
    """The command line of this script, and of those that time other cases with its step (gpu_issue19.py)."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--models", default=",".join(cases), help=f"comma-separated subset of {', '.join(cases)}")
    p.add_argument("--precisions", default="float32,bfloat16", help="float32 and/or bfloat16 (mixed_bfloat16)")
    p.add_argument("--windows", type=int, default=5, help="timed windows; the median is reported")
    p.add_argument("--steps", type=int, default=10, help="steps per window")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps after the compiling call")
    p.add_argument("--smoke", action="store_true", help="tiny variants, batch 2, 1 window of 1 step")
    p.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", out_name),
                   help="results JSON (written atomically; not written with --smoke)")
    args = p.parse_args(argv)
    if args.smoke:
        args.windows, args.steps, args.warmup = 1, 1, 0
    args.precision_list = args.precisions.split(",")
    args.cases = cases
    unknown = set(args.models.split(",")) - set(cases)
    if unknown:
        p.error(f"--models: unknown {sorted(unknown)}; expected any of {', '.join(cases)}")
    return args


def main(argv=None, **command_line) -> int:
    args = parse_args(argv, **command_line)
    return measure_models(args.models.split(","), bench_model, args)


if __name__ == "__main__":
    sys.exit(main())

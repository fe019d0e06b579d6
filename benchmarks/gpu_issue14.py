"""Training steps/s of ConvONet (3 planes, 64^2) and PointNet++ MSG (ModelNet40) on one GPU, on JAX.

    python3 benchmarks/gpu_issue14.py [--models conv_onet,pointnet2] [--precisions float32]
        [--windows 5] [--steps 10] [--warmup 3] [--out PATH]
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python benchmarks/gpu_issue14.py --smoke   # tiny, CPU, checks only

Each network is the registered full variant built from its class (random weights), trained on a fixed
random batch at the paper's sizes with a jitted step: stateless_call -> loss -> jax.value_and_grad ->
torch-style Adam (benchmarks/jax_adam.py), buffers donated; timed with benchmarks/gpu_pose.py `measure`
(the compiling call alone, warm-up, then synchronised windows; steps/s from the median window).
  - conv_onet: conv_onet_3plane_shapenet, batch 32, 3,000 input points, 2,048 queries, BCE summed over
    queries (configs/pointcloud/shapenet_3plane.yaml), Adam 1e-4
  - pointnet2: pointnet2_msg_modelnet40, batch 16, 1,024 points, cross-entropy, Adam 1e-3, wd 1e-5
The loss of the repeated batch must fall (first and last loss are recorded). The authors' PyTorch
code is timed beside it by a script outside the repository (their code is not committed; the
procedure is in benchmarks/results/gpu_issue14.md).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks.common import measure_models  # noqa: E402
from benchmarks.gpu_issue13 import enter_bare  # noqa: E402
from benchmarks.gpu_pose import measure  # noqa: E402

SIZES = {  # name -> (batch, full-size arguments); --smoke shrinks them
    "conv_onet": (32, {"points": 3000, "queries": 2048}),
    "pointnet2": (16, {"points": 1024}),
}


def conv_onet_case(batch: int, smoke: bool):
    """(model, inputs, loss(outputs) -> scalar, lr, weight decay) for ConvONet's occupancy training."""
    import jax
    import jax.numpy as jnp

    enter_bare("research.three_d.conv_onet")
    from research.three_d.conv_onet.losses import occupancy_loss
    from research.three_d.conv_onet.model import ConvONet

    kwargs = {"plane_resolution": 16, "unet_depth": 2, "unet_filters": 8} if smoke else {}
    model = ConvONet(**kwargs)
    n, t = (64, 32) if smoke else (SIZES["conv_onet"][1]["points"], SIZES["conv_onet"][1]["queries"])
    k = jax.random.split(jax.random.PRNGKey(0), 2)
    queries = jax.random.uniform(k[1], (batch, t, 3), jnp.float32, -0.55, 0.55)
    inputs = {"points": jax.random.uniform(k[0], (batch, n, 3), jnp.float32, -0.5, 0.5), "queries": queries}
    occupancy = (jnp.linalg.norm(queries, axis=-1) < 0.4).astype(jnp.float32)
    return model, inputs, lambda logits: jnp.mean(occupancy_loss(occupancy, logits)), 1e-4, 0.0


def pointnet2_case(batch: int, smoke: bool):
    """(model, inputs, loss, lr, weight decay) for PointNet++ MSG classification."""
    import jax
    import jax.numpy as jnp

    enter_bare("official.vision.pointnet2")
    from official.vision.pointnet2.model import PointNet2Classifier

    points = 64 if smoke else SIZES["pointnet2"][1]["points"]
    if smoke:  # the registered tiny stages (16 and 4 centres) on 64 points
        from official.vision.pointnet2.variants import TINY_STAGES

        model = PointNet2Classifier(classes=40, num_points=points, stages=TINY_STAGES, head_widths=(32, 16))
    else:
        model = PointNet2Classifier(classes=40, num_points=points)
    k = jax.random.split(jax.random.PRNGKey(1), 2)
    x = jax.random.uniform(k[0], (batch, points, 3), jnp.float32, -1.0, 1.0)
    labels = jax.random.randint(k[1], (batch,), 0, 40)

    def loss(logits):
        logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=-1))

    return model, x, loss, 1e-3, 1e-5


CASES = {"conv_onet": conv_onet_case, "pointnet2": pointnet2_case}


def bench_model(name: str, args) -> dict:
    import jax
    import keras
    import numpy as np

    from benchmarks.jax_adam import adam_init, adam_update

    result = {"model": name, "device": str(jax.devices()[0])}
    for precision in args.precision_list:
        keras.config.set_dtype_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
        batch = 2 if args.smoke else SIZES[name][0]
        model, inputs, loss_of, lr, wd = CASES[name](batch, args.smoke)
        keras.config.set_dtype_policy("float32")
        result["trainable_parameters"] = int(sum(np.prod(v.shape) for v in model.trainable_variables))
        result["batch"] = batch
        state = {"tv": [v.value for v in model.trainable_variables],
                 "ntv": [v.value for v in model.non_trainable_variables]}
        state["adam"] = adam_init(state["tv"])

        def loss_fn(tv, ntv, x, model=model, loss_of=loss_of):
            out, ntv = model.stateless_call(tv, ntv, x, training=True)
            return loss_of(out), ntv

        def train_step(tv, ntv, adam, x, loss_fn=loss_fn, lr=lr, wd=wd):
            (loss, ntv), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv, ntv, x)
            tv, adam = adam_update(tv, grads, adam, lr=lr, weight_decay=wd)
            return tv, ntv, adam, loss

        train = jax.jit(train_step, donate_argnums=(0, 1, 2))

        def one(state=state, train=train, inputs=inputs):
            state["tv"], state["ntv"], state["adam"], loss = train(state["tv"], state["ntv"], state["adam"], inputs)
            return loss

        row, first = measure(one, jax.block_until_ready, batch, args.warmup, args.windows, args.steps)
        row["steps_per_s"] = row["images_per_s"] / batch
        row["samples_per_s"] = row.pop("images_per_s")
        row["first_loss"], row["last_loss"] = float(first), float(one())
        result[precision] = row
        print(f"  {name} {precision}: {row['steps_per_s']:.2f} steps/s at batch {batch} "
              f"(loss {row['first_loss']:.4f} -> {row['last_loss']:.4f}; compile {row['first_call_s']:.0f} s)",
              flush=True)
    return result


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default=",".join(CASES), help=f"comma-separated subset of {', '.join(CASES)}")
    p.add_argument("--precisions", default="float32", help="float32 and/or bfloat16 (mixed_bfloat16 policy)")
    p.add_argument("--windows", type=int, default=5, help="timed windows; the median is reported")
    p.add_argument("--steps", type=int, default=10, help="training steps per window")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps after the compiling call")
    p.add_argument("--smoke", action="store_true", help="batch 2, tiny inputs and widths, 1 window of 1 step")
    p.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "gpu_issue14.json"),
                   help="results JSON (written atomically; not written with --smoke)")
    args = p.parse_args(argv)
    if args.smoke:
        args.windows, args.steps, args.warmup = 1, 1, 0
    args.precision_list = args.precisions.split(",")
    unknown = set(args.models.split(",")) - set(CASES)
    if unknown:
        p.error(f"--models: unknown {sorted(unknown)}; expected any of {', '.join(CASES)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    return measure_models(args.models.split(","), bench_model, args)


if __name__ == "__main__":
    sys.exit(main())

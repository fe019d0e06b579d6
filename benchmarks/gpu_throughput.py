"""GPU training and inference throughput: MobileNeXt-1.0 (Keras on JAX) beside the authors' own module.

    KERAS_BACKEND=jax python benchmarks/gpu_throughput.py [--batch 256] [--steps 50] [--warmup 10]
        [--mnext_py PATH] [--peers jax,mnext_eager,mnext_compile,mnext_compile_frozen,timm_mbv2_compile]
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python benchmarks/gpu_throughput.py --smoke   # tiny, CPU is fine

One process, one GPU, bf16, 224x224, images/s of
  - jax: MobileNeXt-1.0, Keras 3 on JAX, "mixed_bfloat16" policy: a jitted stateless train step
    (stateless_call + jax.value_and_grad + SGD Nesterov momentum written in jax, buffers donated), a
    jitted forward of the model as trained (BatchNorm a separate op), and a jitted forward of its
    `fuse_batchnorm()` copy (BN folded into the conv kernels and biases: the same function, the form
    to serve); with XLA's cost analysis of each compiled step and the convs' FLOPs counted from the
    jaxpr (cuDNN calls carry no cost in XLA's analysis);
  - mnext_eager / mnext_compile: the same architecture as the authors wrote it, their
    `mobilenext/codebase/models/mnext.py` (github.com/zhoudaquan/rethinking_bottleneck_design), loaded by
    path from --mnext_py at run time (it is not part of this repository), PyTorch eager and
    torch.compile; mnext_compile_frozen: inference only, torch.compile with inductor's freezing, which
    folds BatchNorm into the convs as `fuse_batchnorm()` does (the like-with-like peer of the fused step);
  - timm_mbv2_eager / timm_mbv2_compile: timm's mobilenetv2_100, the equal-MAdds reference.
PyTorch peers: channels_last, bf16 autocast, SGD Nesterov. Each figure is (batch x timed steps) /
seconds after warm-up steps (compilation included in warm-up), synchronised with block_until_ready /
torch.cuda.synchronize. A peer that fails (a missing file or package, a compile error, out of memory)
records its error string and the others still run.

Runs without TensorFlow: it imports only keras, jax, numpy, torch, timm and the model files themselves
(loaded by path, so neither the registry nor the experiment configs are imported).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import traceback

os.environ.setdefault("KERAS_BACKEND", "jax")
# JAX would preallocate 75% of the GPU and starve the PyTorch peers run afterwards in this process.
os.environ.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.45")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks.common import jaxpr_flops, load_module  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=256, help="images per step")
    p.add_argument("--image_size", type=int, default=224, help="input side")
    p.add_argument("--steps", type=int, default=50, help="timed steps per measurement")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first (compilation happens here)")
    p.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (the official recipe's)")
    p.add_argument("--peers", default="jax,mnext_eager,mnext_compile,mnext_compile_frozen,timm_mbv2_compile",
                   help=f"comma-separated subset of {', '.join(PEERS)}")
    p.add_argument("--mnext_py", default=os.environ.get("MNEXT_PY", os.path.join(REPO, ".peer", "mnext.py")),
                   help="the authors' mobilenext/codebase/models/mnext.py (fetched separately, not in this repo)")
    p.add_argument("--smoke", action="store_true", help="batch 2, 64x64, 2 steps: checks the script, times nothing")
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/gpu_throughput.json; "
                   "with --smoke, gpu_throughput_smoke.json in the temp folder)")
    args = p.parse_args(argv)
    if args.smoke:
        args.batch, args.image_size, args.steps, args.warmup = 2, 64, 2, 1
    if args.out is None:
        args.out = (os.path.join(tempfile.gettempdir(), "gpu_throughput_smoke.json") if args.smoke
                    else os.path.join(REPO, "benchmarks", "results", "gpu_throughput.json"))
    return args


def load_mobilenext():
    """official/vision/mobilenext/model.py by path (its package __init__ would import the configs)."""
    return load_module(os.path.join(REPO, "official", "vision", "mobilenext", "model.py"), "mobilenext_model").MobileNeXt


def xla_cost(jitted, *args) -> dict:
    """XLA's cost analysis of the compiled step: flops and bytes accessed (custom calls such as cuDNN
    convolutions are opaque to it: their FLOPs are missing, see benchmarks.common.jaxpr_flops)."""
    cost = jitted.lower(*args).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return {"flops": float(cost.get("flops", 0.0)), "bytes_accessed": float(cost.get("bytes accessed", 0.0))}


def timed(step, steps: int, warmup: int, sync) -> float:
    """Images/s factor: runs `step` warmup + steps times, returns seconds of the timed steps."""
    for _ in range(warmup):
        out = step()
    sync(out)
    t0 = time.perf_counter()
    for _ in range(steps):
        out = step()
    sync(out)
    return time.perf_counter() - t0


# --- MobileNeXt-1.0, Keras 3 on JAX --------------------------------------------------------------------


def bench_jax(args: argparse.Namespace) -> dict:
    import jax
    import jax.numpy as jnp
    import keras

    if keras.backend.backend() != "jax":
        raise RuntimeError(f"KERAS_BACKEND must be jax, got {keras.backend.backend()}")
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    MobileNeXt = load_mobilenext()
    model = MobileNeXt(width=1.0, input_shape=(args.image_size, args.image_size, 3), classes=1000)
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    velocity = [jnp.zeros_like(w) for w in trainable]
    key = jax.random.PRNGKey(0)
    x = jax.random.normal(key, (args.batch, args.image_size, args.image_size, 3), jnp.float32)
    y = jax.random.randint(key, (args.batch,), 0, 1000)

    def loss_fn(tv, ntv, x, y):
        logits, ntv = model.stateless_call(tv, ntv, x, training=True)
        logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=-1)), ntv

    def train_step(tv, ntv, vel, x, y):
        (loss, ntv), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv, ntv, x, y)
        # SGD, Nesterov momentum 0.9 (PyTorch's formulation): v = mu v + g; w -= lr (g + mu v).
        vel = [0.9 * v + g for v, g in zip(vel, grads, strict=True)]
        tv = [w - args.lr * (g + 0.9 * v) for w, g, v in zip(tv, grads, vel, strict=True)]
        return tv, ntv, vel, loss

    train = jax.jit(train_step, donate_argnums=(0, 1, 2))
    infer = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])
    state = {"tv": trainable, "ntv": non_trainable, "vel": velocity}
    flops_forward = jaxpr_flops(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0],
                               trainable, non_trainable, x)
    cost = {"train": xla_cost(train, trainable, non_trainable, velocity, x, y),
            "inference": xla_cost(infer, trainable, non_trainable, x)}

    def one_train():
        state["tv"], state["ntv"], state["vel"], loss = train(state["tv"], state["ntv"], state["vel"], x, y)
        return loss

    result = {"framework": f"keras {keras.__version__} / jax {jax.__version__}", "model": "MobileNeXt-1.0",
              "params": int(sum(w.size for w in trainable)), "device": str(jax.devices()[0])}
    result["first_loss"] = float(one_train())  # the fixed batch is memorised: the loss must fall
    seconds = timed(one_train, args.steps, args.warmup, lambda out: out.block_until_ready())
    result["train_images_per_s"] = args.batch * args.steps / seconds
    result["final_loss"] = float(one_train())
    logits = infer(state["tv"], state["ntv"], x)
    result["logits_dtype"] = str(logits.dtype)
    seconds = timed(lambda: infer(state["tv"], state["ntv"], x), args.steps, args.warmup,
                    lambda out: out.block_until_ready())
    result["inference_images_per_s"] = args.batch * args.steps / seconds

    # The serving form: BatchNorm folded into the convs (model.fuse_batchnorm()), same weights.
    for variable, value in zip(model.trainable_variables + model.non_trainable_variables,
                               state["tv"] + state["ntv"], strict=True):
        variable.assign(value)
    fused = model.fuse_batchnorm()
    ftv = [v.value for v in fused.trainable_variables]
    fntv = [v.value for v in fused.non_trainable_variables]
    infer_fused = jax.jit(lambda tv, ntv, x: fused.stateless_call(tv, ntv, x, training=False)[0])
    cost["inference_fused"] = xla_cost(infer_fused, ftv, fntv, x)
    fused_logits = infer_fused(ftv, fntv, x)
    result["fused_max_abs_logit_diff"] = float(jnp.max(jnp.abs(fused_logits - logits)))
    result["fused_max_rel_logit_diff"] = result["fused_max_abs_logit_diff"] / float(jnp.max(jnp.abs(logits)))
    result["fused_top1_agreement"] = float(jnp.mean(jnp.argmax(fused_logits, -1) == jnp.argmax(logits, -1)))
    seconds = timed(lambda: infer_fused(ftv, fntv, x), args.steps, args.warmup, lambda out: out.block_until_ready())
    result["inference_fused_images_per_s"] = args.batch * args.steps / seconds

    # Roofline inputs: model FLOPs (convs + matmuls; a train step ~ 3x the forward) and XLA's cost analysis.
    result["model_flops_per_image"] = flops_forward / args.batch
    for name, key, factor in (("train", "train_images_per_s", 3.0), ("inference", "inference_images_per_s", 1.0),
                              ("inference_fused", "inference_fused_images_per_s", 1.0)):
        step_s = args.batch / result[key]
        cost[name]["step_ms"] = 1000 * step_s
        cost[name]["model_flop_per_s"] = factor * flops_forward / step_s
        cost[name]["xla_bytes_per_s"] = cost[name]["bytes_accessed"] / step_s
        cost[name]["xla_flop_per_s"] = cost[name]["flops"] / step_s
    result["cost"] = cost
    return result


# --- PyTorch peers: the authors' mnext.py, timm mobilenetv2_100 ----------------------------------------


def authors_mnext(args: argparse.Namespace):
    """(module, description) of MobileNeXt-1.0 from the authors' file, loaded by path."""
    module = load_module(args.mnext_py, "authors_mnext")
    return module.mnext(num_classes=1000, width_mult=1.0), "authors' mnext.py MobileNeXt-1.0"


def timm_mbv2(args: argparse.Namespace):
    import timm

    return timm.create_model("mobilenetv2_100", num_classes=1000), f"timm {timm.__version__} mobilenetv2_100"


def bench_torch(args: argparse.Namespace, factory, compiled: bool, frozen: bool = False) -> dict:
    """Train + inference images/s of a PyTorch model; `frozen`: inference only, inductor freezing on."""
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    sync = (lambda out: torch.cuda.synchronize()) if device.type == "cuda" else (lambda out: None)
    torch.manual_seed(0)
    model, description = factory(args)
    model = model.to(device, memory_format=torch.channels_last)
    result = {"framework": f"torch {torch.__version__}", "model": description,
              "params": int(sum(p.numel() for p in model.parameters())), "device": str(device),
              "compiled": compiled, "frozen": frozen}
    if device.type == "cuda":
        result["device"] = torch.cuda.get_device_name(device)
    if frozen:
        import torch._inductor.config as inductor_config

        inductor_config.freezing = True  # parameters become constants: conv-BN folding at inference
    net = torch.compile(model) if compiled else model
    x = torch.randn(args.batch, 3, args.image_size, args.image_size, device=device).to(
        memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (args.batch,), device=device)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    autocast = lambda: torch.autocast(device_type=device.type, dtype=torch.bfloat16)  # noqa: E731

    def one_train():
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    if not frozen:
        model.train()
        result["first_loss"] = float(one_train().detach())  # the fixed batch is memorised: the loss must fall
        seconds = timed(one_train, args.steps, args.warmup, sync)
        result["train_images_per_s"] = args.batch * args.steps / seconds
        result["final_loss"] = float(one_train().detach())
    model.eval()

    def one_infer():
        with torch.inference_mode(), autocast():
            return net(x)

    seconds = timed(one_infer, args.steps, args.warmup, sync)
    result["inference_images_per_s"] = args.batch * args.steps / seconds
    if frozen:
        import torch._inductor.config as inductor_config

        inductor_config.freezing = False
    return result


PEERS = {
    "jax": lambda a: bench_jax(a),
    "mnext_eager": lambda a: bench_torch(a, authors_mnext, compiled=False),
    "mnext_compile": lambda a: bench_torch(a, authors_mnext, compiled=True),
    "mnext_compile_frozen": lambda a: bench_torch(a, authors_mnext, compiled=True, frozen=True),
    "timm_mbv2_eager": lambda a: bench_torch(a, timm_mbv2, compiled=False),
    "timm_mbv2_compile": lambda a: bench_torch(a, timm_mbv2, compiled=True),
}


def _write_json_atomic(obj: object, path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".gpu_throughput-", suffix=".json", dir=directory)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        print(f"unknown peers {unknown}; choose from {', '.join(PEERS)}", file=sys.stderr)
        return 2
    results = {}
    for name in peers:
        t0 = time.perf_counter()
        try:
            results[name] = PEERS[name](args)
        except Exception as err:  # a failing peer is recorded, the others still run
            results[name] = {"error": f"{type(err).__name__}: {err}"[:2000],
                             "traceback": traceback.format_exc()[-4000:]}
        results[name]["wall_s"] = time.perf_counter() - t0
        print(f"{name}: done in {results[name]['wall_s']:.0f} s", flush=True)
    header = f"{'peer':<21} {'model':<36} {'train img/s':>12} {'infer img/s':>12}  note"
    print(f"\nbatch {args.batch}, {args.image_size}x{args.image_size}, bf16, {args.steps} timed steps "
          f"after {args.warmup} warm-up\n{header}\n{'-' * len(header)}")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<21} {'-':<36} {'-':>12} {'-':>12}  {r['error'][:120]}")
            continue
        train = f"{r['train_images_per_s']:>12.1f}" if "train_images_per_s" in r else f"{'-':>12}"
        loss = f"loss {r['first_loss']:.2f} -> {r['final_loss']:.2f}, " if "first_loss" in r else ""
        print(f"{name:<21} {r['model'][:36]:<36} {train} {r['inference_images_per_s']:>12.1f}  {loss}{r['framework']}")
        if "inference_fused_images_per_s" in r:
            print(f"{name + ' (fused BN)':<21} {r['model'][:36]:<36} {'-':>12} {r['inference_fused_images_per_s']:>12.1f}  "
                  f"fuse_batchnorm(): logits max diff {r['fused_max_rel_logit_diff']:.2g} of max |logit|, "
                  f"top-1 agreement {r['fused_top1_agreement']:.3f}")
    zoo, peer, frozen = (results.get(k, {}) for k in ("jax", "mnext_compile", "mnext_compile_frozen"))
    ratios = {}
    if "error" not in zoo and zoo and "error" not in peer and peer:
        ratios["train_vs_authors_compiled"] = zoo["train_images_per_s"] / peer["train_images_per_s"]
        ratios["inference_vs_authors_compiled"] = zoo["inference_images_per_s"] / peer["inference_images_per_s"]
    if "error" not in zoo and zoo and "error" not in frozen and frozen:
        ratios["inference_fused_vs_authors_compiled_frozen"] = (
            zoo["inference_fused_images_per_s"] / frozen["inference_images_per_s"])
    for key, value in ratios.items():
        print(f"{key}: {value:.2f}x")
    payload = {
        "command": "KERAS_BACKEND=jax python benchmarks/gpu_throughput.py" + (" --smoke" if args.smoke else "")
        + f" --peers {','.join(peers)}",
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "smoke": args.smoke,
        "settings": {"batch": args.batch, "image_size": args.image_size, "steps": args.steps,
                     "warmup": args.warmup, "precision": "bf16 (keras mixed_bfloat16 / torch autocast)",
                     "optimizer": f"SGD nesterov momentum 0.9 lr {args.lr}"},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "tensorflow_imported": "tensorflow" in sys.modules},
        "results": results,
        "ratios": ratios,
    }
    _write_json_atomic(payload, args.out)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

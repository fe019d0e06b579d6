"""Data-parallel training on 1..N GPUs of one host: MobileNeXt-1.0 (Keras 3 on JAX) beside PyTorch DDP.

    python benchmarks/gpu_scaling.py [--devices 1,2] [--batch 256] [--steps 30] [--windows 5] [--warmup 10]
        [--engines torch_ddp,zoo_dp,zoo_dp_local_bn] [--mnext_py PATH] [--part_timeout 400]
    python benchmarks/gpu_scaling.py --smoke   # CPU, tiny width/batch/image, 1 device; times nothing

Per-GPU batch 256 (global batch = devices x 256), 224x224, bf16, synthetic data resident on the devices,
SGD Nesterov momentum 0.9 (the step of benchmarks/gpu_throughput.py). Engines:
  - zoo_dp: the registered `mobilenext_100` (official/vision/mobilenext/model.py, loaded by path as
    gpu_throughput.py does) under `keras.distribution.DataParallel(devices=...)`: variables are created
    replicated on the distribution's mesh, the batch is laid out with `get_data_layout` (sharded on the
    batch axis) and the stateless train step is jitted with replicated outputs; XLA (GSPMD) inserts the
    gradient all-reduce. The step keeps one global-batch semantics, so BatchNorm statistics are taken over
    the global batch (cross-GPU, a SyncBN): one small all-reduce per BatchNorm layer, forward and backward.
  - zoo_dp_local_bn: the same model, distribution, mesh and data layout, the step written per replica with
    `jax.shard_map` over the distribution's mesh: BatchNorm statistics per GPU (as in PyTorch DDP), one
    gradient mean (`lax.pmean`) per step; moving statistics averaged so the replicas stay identical. On one
    device it is the zoo_dp step, so the single-device baseline of both zoo engines is zoo_dp's.
  - torch_ddp: the authors' mnext.py (MobileNeXt-1.0, loaded by path from --mnext_py, never committed),
    torch.multiprocessing spawn, one process per GPU, NCCL, DistributedDataParallel, eager, channels_last,
    bf16 autocast.
Each (engine, device count) runs in its own subprocess (fresh GPU memory, a hang is cut by --part_timeout).
Throughput: global images / s of each timed window (`--steps` steps, synchronised), median of `--windows`
windows after `--warmup` untimed steps (compilation there). Scaling efficiency of N devices =
img/s(N) / (N x img/s(1)). NVLink multicast stays off (NCCL_NVLS_ENABLE=0 and friends, forced here).
Runs without TensorFlow: only keras, jax, numpy, torch and the model files are imported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import gpu_throughput as gt  # noqa: E402  (sets KERAS_BACKEND=jax by default; imports only the stdlib)

REPO = gt.REPO
# Never let NCCL, PyTorch or NVSHMEM use NVLink multicast on the shared hosts (device README / KINDS.md).
os.environ["NCCL_NVLS_ENABLE"] = "0"
os.environ["TORCH_SYMM_MEM_DISABLE_MULTICAST"] = "1"
os.environ["NVSHMEM_DISABLE_NVLS"] = "1"

ENGINES = ("torch_ddp", "zoo_dp", "zoo_dp_local_bn")  # the quick PyTorch parts first
T0 = time.perf_counter()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--devices", default="1,2", help="comma-separated device counts (1 is the baseline)")
    p.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated subset of {', '.join(ENGINES)}")
    p.add_argument("--batch", type=int, default=256, help="images per step PER DEVICE")
    p.add_argument("--image_size", type=int, default=224)
    p.add_argument("--width", type=float, default=1.0, help="MobileNeXt width multiplier")
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--steps", type=int, default=30, help="steps per timed window")
    p.add_argument("--windows", type=int, default=5, help="timed windows (the median is reported)")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first (compilation happens here)")
    p.add_argument("--lr", type=float, default=0.1, help="SGD learning rate")
    p.add_argument("--mnext_py", default=os.environ.get("MNEXT_PY", os.path.join(REPO, ".peer", "mnext.py")),
                   help="the authors' mobilenext/codebase/models/mnext.py (fetched separately, not in this repo)")
    p.add_argument("--part_timeout", type=float, default=400, help="seconds for one (engine, devices) part")
    p.add_argument("--smoke", action="store_true", help="CPU, width 0.5, 32x32, batch 2, lr 0.01, 1 device, 2 steps")
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/gpu_scaling.json; "
                   "with --smoke, gpu_scaling_smoke.json in the temp folder)")
    p.add_argument("--md", default=None, help="also write the markdown table here")
    # internal: one part in this process
    p.add_argument("--_part", default=None, help=argparse.SUPPRESS)
    p.add_argument("--_n", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--_result", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.smoke:
        args.devices, args.batch, args.image_size, args.width, args.classes = "1", 2, 32, 0.5, 10
        args.steps, args.windows, args.warmup, args.lr = 2, 2, 1, 0.01
    args.device_counts = [int(d) for d in args.devices.split(",") if d.strip()]
    if args.out is None:
        args.out = (os.path.join(tempfile.gettempdir(), "gpu_scaling_smoke.json") if args.smoke
                    else os.path.join(REPO, "benchmarks", "results", "gpu_scaling.json"))
    return args


def windows_images_per_s(step, sync, args: argparse.Namespace, global_batch: int) -> dict:
    """Warm-up, then `windows` timed windows of `steps` steps (gpu_throughput.timed); img/s per window."""
    seconds = [gt.timed(step, args.steps, args.warmup if i == 0 else 1, sync) for i in range(args.windows)]
    per_window = [global_batch * args.steps / s for s in seconds]
    return {"images_per_s": statistics.median(per_window), "windows_images_per_s": per_window}


# --- the zoo: Keras 3 on JAX under keras.distribution.DataParallel --------------------------------------


def phase(message: str) -> None:
    """A time-stamped progress line on stderr (the part's log): a timed-out part says where it stood."""
    print(f"[{time.perf_counter() - T0:7.1f} s] {message}", file=sys.stderr, flush=True)


def part_zoo(args: argparse.Namespace, n: int, local_bn: bool) -> dict:
    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    if keras.backend.backend() != "jax":
        raise RuntimeError(f"KERAS_BACKEND must be jax, got {keras.backend.backend()}")
    phase(f"keras {keras.__version__}, jax {jax.__version__} imported")
    devices = keras.distribution.list_devices()
    if len(devices) < n:
        raise RuntimeError(f"{n} devices asked for, {len(devices)} present: {devices}")
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    distribution = keras.distribution.DataParallel(devices=devices[:n])
    mesh, axis = distribution.device_mesh.backend_mesh, distribution.batch_dim_name
    with distribution.scope():  # variables are created replicated on the mesh
        model = gt.load_mobilenext()(width=args.width, input_shape=(args.image_size, args.image_size, 3),
                                     classes=args.classes)
    phase(f"model built on {devices[:n]}")
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    velocity = [jnp.zeros_like(w) for w in trainable]
    global_batch = n * args.batch
    rng = np.random.default_rng(0)
    x_host = rng.standard_normal((global_batch, args.image_size, args.image_size, 3), dtype=np.float32)
    y_host = rng.integers(0, args.classes, (global_batch,), dtype=np.int32)
    x = jax.device_put(x_host, distribution.get_data_layout(x_host.shape).backend_layout)
    y = jax.device_put(y_host, distribution.get_data_layout(y_host.shape).backend_layout)
    replicated = NamedSharding(mesh, P())
    phase("data placed")

    def loss_fn(tv, ntv, x, y):
        logits, ntv = model.stateless_call(tv, ntv, x, training=True)
        logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=-1)), ntv

    def step(tv, ntv, vel, x, y, reduce=lambda t: t):
        (loss, ntv), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv, ntv, x, y)
        grads, loss = reduce(grads), reduce(loss)
        ntv = [reduce(v) if jnp.issubdtype(v.dtype, jnp.floating) else v for v in ntv]
        vel = [0.9 * v + g for v, g in zip(vel, grads, strict=True)]  # SGD Nesterov as gpu_throughput.py
        tv = [w - args.lr * (g + 0.9 * v) for w, g, v in zip(tv, grads, vel, strict=True)]
        return tv, ntv, vel, loss

    if local_bn:
        per_replica = jax.shard_map(lambda *a: step(*a, reduce=lambda t: jax.lax.pmean(t, axis)), mesh=mesh,
                                    in_specs=(P(), P(), P(), P(axis), P(axis)), out_specs=P(), check_vma=False)
        train = jax.jit(per_replica, donate_argnums=(0, 1, 2))
    else:
        train = jax.jit(step, donate_argnums=(0, 1, 2), out_shardings=replicated)
    state = {"tv": trainable, "ntv": non_trainable, "vel": velocity}

    def one_train():
        state["tv"], state["ntv"], state["vel"], loss = train(state["tv"], state["ntv"], state["vel"], x, y)
        return loss

    result = {"framework": f"keras {keras.__version__} / jax {jax.__version__}",
              "distribution": f"keras.distribution.DataParallel(devices={devices[:n]})"
              + (", step in jax.shard_map (per-GPU BatchNorm)" if local_bn else ", GSPMD (global-batch BatchNorm)"),
              "params": int(sum(w.size for w in trainable)), "devices": [str(d) for d in jax.devices()[:n]],
              "x_sharding": str(x.sharding)}
    t0 = time.perf_counter()
    result["first_loss"] = float(one_train())  # compiles; the fixed batch is memorised: the loss must fall
    result["first_step_s"] = time.perf_counter() - t0
    phase(f"first step (compilation) done in {result['first_step_s']:.1f} s")
    result.update(windows_images_per_s(one_train, lambda out: out.block_until_ready(), args, global_batch))
    phase("timed")
    result["final_loss"] = float(one_train())
    result["weights_sharding"] = str(state["tv"][0].sharding)
    return result


# --- PyTorch DDP of the authors' module ---------------------------------------------------------------


def _ddp_worker(rank: int, world: int, args: argparse.Namespace, port: int, result_path: str) -> None:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    cuda = torch.cuda.is_available()
    device = torch.device("cuda", rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world,
                            device_id=device if cuda else None)
    try:
        torch.manual_seed(0)
        model = gt.load_module(args.mnext_py, "authors_mnext").mnext(num_classes=args.classes, width_mult=args.width)
        model = model.to(device, memory_format=torch.channels_last).train()
        net = DistributedDataParallel(model, device_ids=[rank] if cuda else None, gradient_as_bucket_view=True)
        torch.manual_seed(rank)
        x = torch.randn(args.batch, 3, args.image_size, args.image_size, device=device).to(
            memory_format=torch.channels_last)
        y = torch.randint(0, args.classes, (args.batch,), device=device)
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True)
        loss_fn = torch.nn.CrossEntropyLoss()

        def one_train():
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            return loss

        sync = (lambda out: torch.cuda.synchronize()) if cuda else (lambda out: None)
        t0 = time.perf_counter()
        first_loss = float(one_train().detach())
        first_step_s = time.perf_counter() - t0
        if rank == 0:
            phase(f"DDP x{world}: first step done in {first_step_s:.1f} s")
        timing = windows_images_per_s(one_train, sync, args, world * args.batch)
        final_loss = float(one_train().detach())
        if rank == 0:
            result = {"framework": f"torch {torch.__version__}, DistributedDataParallel, "
                      f"{dist.get_backend()}, eager, channels_last, bf16 autocast",
                      "model": "authors' mnext.py", "params": int(sum(p.numel() for p in model.parameters())),
                      "devices": [torch.cuda.get_device_name(i) if cuda else "cpu" for i in range(world)],
                      "first_loss": first_loss, "first_step_s": first_step_s, "final_loss": final_loss, **timing}
            with open(result_path, "w") as f:
                json.dump(result, f)
    finally:
        dist.destroy_process_group()


def part_torch(args: argparse.Namespace, n: int, result_path: str) -> dict:
    import torch
    import torch.multiprocessing as mp

    if not os.path.exists(args.mnext_py):
        raise FileNotFoundError(f"{args.mnext_py} not found (the authors' mnext.py is fetched separately)")
    if torch.cuda.is_available() and torch.cuda.device_count() < n:
        raise RuntimeError(f"{n} GPUs asked for, {torch.cuda.device_count()} present")
    if not torch.cuda.is_available() and n > 1 and not args.smoke:
        raise RuntimeError("no CUDA device")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_ddp_worker, args=(n, args, port, result_path), nprocs=n, join=True)
    with open(result_path) as f:
        return json.load(f)


def run_part(args: argparse.Namespace) -> int:
    """One (engine, n) in this process: the result (or the error) is written to --_result."""
    try:
        if args._part == "torch_ddp":
            result = part_torch(args, args._n, args._result + ".rank0")
        else:
            result = part_zoo(args, args._n, local_bn=args._part == "zoo_dp_local_bn")
    except Exception as err:
        result = {"error": f"{type(err).__name__}: {err}"[:2000], "traceback": traceback.format_exc()[-4000:]}
    result["tensorflow_imported"] = "tensorflow" in sys.modules
    with open(args._result, "w") as f:
        json.dump(result, f)
    return 0


# --- orchestration --------------------------------------------------------------------------------------


def part_argv(args: argparse.Namespace, engine: str, n: int, result_path: str) -> list[str]:
    argv = [sys.executable, os.path.abspath(__file__), "--_part", engine, "--_n", str(n), "--_result", result_path,
            "--batch", str(args.batch), "--image_size", str(args.image_size), "--width", str(args.width),
            "--classes", str(args.classes), "--steps", str(args.steps), "--windows", str(args.windows),
            "--warmup", str(args.warmup), "--lr", str(args.lr), "--mnext_py", args.mnext_py]
    return argv + (["--smoke"] if args.smoke else [])


def part_env(args: argparse.Namespace) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONUNBUFFERED": "1"}
    if args.smoke:
        env.update(JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    return env


def run_subprocess(argv: list[str], env: dict, result_path: str, timeout: float) -> dict:
    """Runs one part in its own process group with its output logged to a file (a timeout keeps the log,
    which names the last phase reached; the whole group, DDP workers included, is killed)."""
    log_path = result_path + ".log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout)
            error = None if os.path.exists(result_path) else f"part exited {proc.returncode} without a result"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            error = f"timed out after {timeout:.0f} s"
    with open(log_path, errors="replace") as f:
        log_tail = f.read()[-4000:]
    if error is not None:
        return {"error": error, "log_tail": log_tail}
    with open(result_path) as f:
        result = json.load(f)
    if "error" in result:
        result["log_tail"] = log_tail
    return result


def efficiencies(results: dict, counts: list[int]) -> dict:
    """img/s(N) / (N x img/s(1)) per engine; zoo_dp_local_bn's one-device baseline is zoo_dp's (same step)."""
    out = {}
    for engine, by_n in results.items():
        base = by_n.get("1", {}).get("images_per_s")
        if base is None and engine == "zoo_dp_local_bn":
            base = results.get("zoo_dp", {}).get("1", {}).get("images_per_s")
        for n in counts:
            value = by_n.get(str(n), {}).get("images_per_s")
            if n > 1 and base and value:
                out.setdefault(engine, {})[str(n)] = value / (n * base)
    return out


def markdown(payload: dict) -> str:
    s = payload["settings"]
    lines = [f"Per-device batch {s['batch']}, {s['image_size']}x{s['image_size']}, bf16, synthetic data, "
             f"median of {s['windows']} windows of {s['steps']} steps after {s['warmup']} warm-up steps.", "",
             "| engine | devices | img/s (median) | img/s per device | scaling efficiency | loss first -> last |",
             "|---|---|---|---|---|---|"]
    for engine, by_n in payload["results"].items():
        for n, r in by_n.items():
            if "error" in r:
                lines.append(f"| {engine} | {n} | - | - | - | {r['error'][:100]} |")
                continue
            eff = payload["efficiency"].get(engine, {}).get(n)
            lines.append(f"| {engine} | {n} | {r['images_per_s']:,.0f} | {r['images_per_s'] / int(n):,.0f} | "
                         f"{f'{eff:.3f}' if eff else '-'} | {r['first_loss']:.2f} -> {r['final_loss']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args._part:
        return run_part(args)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        print(f"unknown engines {unknown}; choose from {', '.join(ENGINES)}", file=sys.stderr)
        return 2
    payload = {
        "command": "python benchmarks/gpu_scaling.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "smoke": args.smoke,
        "settings": {"devices": args.device_counts, "batch": args.batch, "batch_is": "per device",
                     "image_size": args.image_size, "width": args.width, "classes": args.classes,
                     "steps": args.steps, "windows": args.windows, "warmup": args.warmup,
                     "precision": "bf16 (keras mixed_bfloat16 / torch autocast)",
                     "optimizer": f"SGD nesterov momentum 0.9 lr {args.lr}"},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "nccl_nvls_enable": os.environ["NCCL_NVLS_ENABLE"], "xla_flags": os.environ.get("XLA_FLAGS", "")},
        "results": {},
        "efficiency": {},
    }
    tmp = tempfile.mkdtemp(prefix="gpu_scaling-")
    for engine in engines:
        for n in args.device_counts:
            if engine == "zoo_dp_local_bn" and n == 1 and "zoo_dp" in engines:
                continue  # on one device the per-replica step is zoo_dp's step
            result_path = os.path.join(tmp, f"{engine}-{n}.json")
            t0 = time.perf_counter()
            result = run_subprocess(part_argv(args, engine, n, result_path), part_env(args), result_path,
                                    args.part_timeout)
            result["wall_s"] = time.perf_counter() - t0
            payload["results"].setdefault(engine, {})[str(n)] = result
            payload["efficiency"] = efficiencies(payload["results"], args.device_counts)
            gt._write_json_atomic(payload, args.out)  # partial results survive a later hang
            shown = f"{result['images_per_s']:,.0f} img/s" if "images_per_s" in result else result["error"][:200]
            print(f"{engine} x{n}: {shown} ({result['wall_s']:.0f} s)", flush=True)
    payload["machine"]["tensorflow_imported"] = any(
        r.get("tensorflow_imported", False) for by_n in payload["results"].values() for r in by_n.values())
    gt._write_json_atomic(payload, args.out)
    table = markdown(payload)
    print("\n" + table)
    for engine, by_n in payload["efficiency"].items():
        for n, eff in by_n.items():
            print(f"scaling efficiency {engine} 1 -> {n} devices: {eff:.3f}")
    if args.md:
        with open(args.md, "w") as f:
            f.write(table)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

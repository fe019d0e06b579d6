"""RSN-18 training and inference throughput at 256x192 (images/s): the zoo on JAX beside the authors' PyTorch.

    python3 benchmarks/gpu_pose.py [--batch 32] [--infer_batches 32,256] [--windows 10] [--steps 10]
        [--warmup 5] [--peers zoo_jax,authors_eager,authors_compile] [--rsn_dir .peer/rsn]
        [--peer_timeout S] [--keep_from EARLIER.json]
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python benchmarks/gpu_pose.py --smoke   # tiny, CPU, checks only

One GPU, bf16, person crops 256x192 -> heatmaps 64x48, 17 keypoints, synthetic random inputs and targets:
  - zoo_jax: the zoo's RSN-18 (the registered variant `rsn_18`, official/vision/rsn/, built from its
    `VARIANTS` entry so the registry's index, which imports TensorFlow, is not loaded), Keras 3 on JAX
    with the "mixed_bfloat16" policy. Training step, one jitted function with buffers donated:
    `model.stateless_call(training=True)` -> `rsn_loss(stage_heatmaps, targets (N, 5, H, W, K), valid
    (N, K))` (official/losses/keypoint_mse.py) -> `jax.value_and_grad` -> Adam written in JAX as
    torch.optim.Adam computes it (lr 5e-4, betas 0.9/0.999, eps 1e-8, L2 weight decay 1e-5 added to the
    gradient: the authors' SOLVER settings). Inference: a jitted forward returning "heatmaps" only (the
    exported signature; XLA drops the three coarser heads' convs, which feed only "stage_heatmaps").
  - authors_eager / authors_compile: the authors' RSN-18, caiyuanhao1998/RSN exps/RSN18.coco/network.py
    (commit ca3ba3a) and its one dependency lib/utils/loss.py (`JointsL2Loss`), copied unmodified into
    the git-ignored --rsn_dir (.peer/rsn/network.py, .peer/rsn/lib/utils/loss.py) and loaded by path;
    never part of this repository. Nothing in the two files is patched: their config system is replaced
    by a namespace carrying just the attributes `RSN.__init__` reads (STAGE_NUM 1, KEYPOINT.NUM 17,
    OUTPUT_SHAPE (64, 48), UPSAMPLE_CHANNEL_NUM 256, LOSS.OHKM True, TOPK 8, COARSE_TO_FINE True: the
    values of exps/RSN18.coco/config.py), and `from lib.utils.loss import JointsL2Loss` is served by
    registering the loaded loss.py as the module `lib.utils.loss` (empty `lib`, `lib.utils` parents).
    Training step as their train.py: `model(images, valids (N, 17, 1), labels (N, 5, 17, H, W))` returns
    the authors' `_calculate_loss` (their per-sample Python loop over the batch included), zero_grad,
    backward, torch.optim.Adam with the same settings (default foreach implementation; their LR
    scheduler is left out: a constant LR). channels_last model and images, bf16 autocast around the
    forward + loss; eager, and torch.compile (default mode, dynamic=False: one static graph per
    batch size). Inference: `model(images)` under inference_mode + autocast, which returns the last
    stage's finest heatmaps (their forward computes all four heads; see the results' notes).
    On the H200 machine torch.compile of their training step did not return within 200-260 s: their
    per-sample loss loop unrolls into ~2,500 aten ops at batch 32 (benchmarks/results/rsn_gpu.md);
    --peer_timeout bounds each peer's process, and what it measured before the limit is kept.
Each peer runs in a process of its own (JAX's and PyTorch's allocators and torch.compile caches do not
meet). Timing: the first call (compilation) is timed alone, then `--warmup` more calls, then `--windows`
windows of `--steps` steps, each window synchronised (block_until_ready / torch.cuda.synchronize) and
timed with the host clock; the figure is batch / (median window time / steps). Window spread is recorded.
A peer that fails (missing file, compile error, out of memory) records its error and the others still run.

Runs without TensorFlow: the zoo peer imports keras, jax, numpy and the RSN model, layer and loss modules
(Keras-only); the parent process imports neither jax nor torch.
--smoke: CPU, batch 2, rsn_tiny (64x48) for the zoo and the authors' RSN-18 at 64x48 for PyTorch, 2
windows of 1 step, torch.compile with the "aot_eager" backend (traces with dynamo, no inductor
compile); writes to the temp folder; checks the script, times nothing worth reading.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import types

os.environ.setdefault("KERAS_BACKEND", "jax")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks.common import load_module  # noqa: E402

AUTHORS_COMMIT = "ca3ba3a253ddc75c72dd2c1eff390aaecabda37d"
NUM_KEYPOINTS = 17
NUM_KERNELS = 5  # target Gaussians coarse -> fine (15, 11, 9, 7, 5 px); 4 levels + 1 for coarse-to-fine
# The authors' SOLVER (exps/RSN18.coco/config.py, lib/utils/solver.py), one GPU.
ADAM = {"lr": 5e-4, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "weight_decay": 1e-5}
PEER_NAMES = ("zoo_jax", "authors_eager", "authors_compile")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=32, help="training batch (also the first inference batch)")
    p.add_argument("--infer_batches", default="32,256", help="comma-separated inference batches")
    p.add_argument("--height", type=int, default=256)
    p.add_argument("--width", type=int, default=192)
    p.add_argument("--steps", type=int, default=10, help="steps per timed window")
    p.add_argument("--windows", type=int, default=10, help="timed windows; the figure uses their median")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls after the first (compiling) one")
    p.add_argument("--zoo_model", default="rsn_18", help="zoo variant (official/vision/rsn/variants.py)")
    p.add_argument("--peers", default=",".join(PEER_NAMES), help=f"comma-separated subset of {', '.join(PEER_NAMES)}")
    p.add_argument("--rsn_dir", default=os.environ.get("RSN_DIR", os.path.join(REPO, ".peer", "rsn")),
                   help="folder holding the authors' network.py and lib/utils/loss.py (not in this repo)")
    p.add_argument("--compile_backend", default="inductor", help="torch.compile backend")
    p.add_argument("--peer_timeout", type=float, default=None, help="seconds each peer's process may run")
    p.add_argument("--keep_from", default=None, help="an earlier results JSON: its peers that this run does not "
                   "run are kept (each result records the command that measured it)")
    p.add_argument("--in_process", action="store_true", help="run the peers in this process, one after another")
    p.add_argument("--smoke", action="store_true", help="CPU-sized run that checks the script (see the docstring)")
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/rsn_gpu.json; with "
                   "--smoke, rsn_gpu_smoke.json in the temp folder)")
    p.add_argument("--md", default=None, help="markdown table (default next to --out, .md)")
    args = p.parse_args(argv)
    if args.smoke:
        args.batch, args.infer_batches, args.height, args.width = 2, "2", 64, 48
        args.steps, args.windows, args.warmup = 1, 2, 0
        args.zoo_model, args.compile_backend = "rsn_tiny", "aot_eager"
    args.infer_batch_list = [int(b) for b in args.infer_batches.split(",") if b.strip()]
    if args.out is None:
        args.out = (os.path.join(tempfile.gettempdir(), "rsn_gpu_smoke.json") if args.smoke
                    else os.path.join(REPO, "benchmarks", "results", "rsn_gpu.json"))
    if args.md is None:
        args.md = os.path.splitext(args.out)[0] + ".md"
    return args


def measure(step, sync, batch: int, warmup: int, windows: int, steps: int) -> tuple[dict, object]:
    """Times `step`: the first call alone (compilation), warm-up, then `windows` synchronised windows of
    `steps` calls; images/s from the median window. Returns (figures, the first call's output)."""
    t0 = time.perf_counter()
    first_out = step()
    sync(first_out)
    first = time.perf_counter() - t0
    out = None
    for _ in range(warmup):
        out = step()
    if out is not None:
        sync(out)
    per_step = []
    for _ in range(windows):
        t0 = time.perf_counter()
        for _ in range(steps):
            out = step()
        sync(out)
        per_step.append((time.perf_counter() - t0) / steps)
    median = statistics.median(per_step)
    return {"batch": batch, "images_per_s": batch / median, "median_step_ms": 1000 * median,
            "min_step_ms": 1000 * min(per_step), "max_step_ms": 1000 * max(per_step),
            "first_call_s": first, "windows": windows, "steps_per_window": steps, "warmup": warmup}, first_out


def checkpoint(result: dict, phase: str) -> None:
    """Progress line, and the result so far where the parent asked for it (a timed-out peer keeps it)."""
    print(f"  {result.get('model', '?')}: {phase} done", flush=True)
    path = os.environ.get("RSN_GPU_PARTIAL")
    if path:
        write_atomic(json.dumps(result) + "\n", path)


# --- zoo RSN on Keras 3 / JAX ------------------------------------------------------------------------------


def bench_zoo(args: argparse.Namespace) -> dict:
    import jax
    import jax.numpy as jnp
    import keras

    if keras.backend.backend() != "jax":
        raise RuntimeError(f"KERAS_BACKEND must be jax, got {keras.backend.backend()}")
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    from benchmarks.common import jaxpr_flops
    from benchmarks.jax_adam import adam_init, adam_update
    from official.losses.keypoint_mse import rsn_loss
    from official.vision.rsn.model import RSN
    from official.vision.rsn.variants import VARIANTS

    config = dict(VARIANTS[args.zoo_model])
    config["input_shape"] = (args.height, args.width, 3)
    model = RSN(**config)  # random weights (keras.utils.set_random_seed would import TensorFlow if installed)
    h, w = model.output_size
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    adam = adam_init(tv)
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    x = jax.random.normal(keys[0], (args.batch, args.height, args.width, 3), jnp.float32)
    targets = 255.0 * jax.random.uniform(keys[1], (args.batch, NUM_KERNELS, h, w, NUM_KEYPOINTS), jnp.float32)
    valid = jax.random.randint(keys[2], (args.batch, NUM_KEYPOINTS), 0, 3).astype(jnp.float32)

    def loss_fn(tv, ntv, x, targets, valid):
        outputs, ntv = model.stateless_call(tv, ntv, x, training=True)
        return rsn_loss(outputs["stage_heatmaps"], targets, valid), ntv

    def train_step(tv, ntv, adam, x, targets, valid):
        (loss, ntv), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv, ntv, x, targets, valid)
        tv, adam = adam_update(tv, grads, adam, **ADAM)  # torch.optim.Adam
        return tv, ntv, adam, loss

    train = jax.jit(train_step, donate_argnums=(0, 1, 2))
    infer = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0]["heatmaps"])
    state = {"tv": tv, "ntv": ntv, "adam": adam}

    def one_train():
        state["tv"], state["ntv"], state["adam"], loss = train(
            state["tv"], state["ntv"], state["adam"], x, targets, valid)
        return loss

    sync = lambda out: out.block_until_ready()  # noqa: E731
    flops = jaxpr_flops(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0],
                          state["tv"], state["ntv"], x[:1])
    result = {"framework": f"keras {keras.__version__} / jax {jax.__version__}",
              "model": f"zoo {args.zoo_model} (Keras on JAX, jit, mixed_bfloat16)",
              "params_trainable": int(sum(p.size for p in tv)), "device": str(jax.devices()[0]),
              "forward_gflop_per_image": flops / 1e9}
    result["train"], first = measure(one_train, sync, args.batch, args.warmup, args.windows, args.steps)
    result["first_loss"] = float(first)  # a fixed batch, repeated: the loss must fall
    result["final_loss"] = float(one_train())
    checkpoint(result, f"train (first call {result['train']['first_call_s']:.0f} s)")
    result["inference"] = {}
    for b in args.infer_batch_list:
        xb = jax.random.normal(jax.random.PRNGKey(b), (b, args.height, args.width, 3), jnp.float32)
        result["inference"][str(b)], heatmaps = measure(lambda xb=xb: infer(state["tv"], state["ntv"], xb), sync,
                                                        b, args.warmup, args.windows, args.steps)
        result["heatmaps"] = f"{tuple(heatmaps.shape)} {heatmaps.dtype}"
        checkpoint(result, f"inference b{b}")
    return result


# --- the authors' RSN-18 in PyTorch ----------------------------------------------------------------------


def load_authors(rsn_dir: str):
    """The authors' network.py module, its `from lib.utils.loss import JointsL2Loss` served by path."""
    for name in ("lib", "lib.utils"):
        if name in sys.modules and not getattr(sys.modules[name], "_rsn_stub", False):
            raise RuntimeError(f"a module named {name!r} is already imported; the authors' import would clash")
        stub = types.ModuleType(name)
        stub.__path__, stub._rsn_stub = [], True
        sys.modules[name] = stub
    sys.modules["lib"].utils = sys.modules["lib.utils"]
    sys.modules["lib.utils"].loss = load_module(os.path.join(rsn_dir, "lib", "utils", "loss.py"), "lib.utils.loss")
    return load_module(os.path.join(rsn_dir, "network.py"), "authors_rsn_network")


def authors_config(height: int, width: int) -> types.SimpleNamespace:
    """The attributes of exps/RSN18.coco/config.py that `RSN.__init__` reads."""
    ns = types.SimpleNamespace
    return ns(MODEL=ns(STAGE_NUM=1, UPSAMPLE_CHANNEL_NUM=256), DATASET=ns(KEYPOINT=ns(NUM=NUM_KEYPOINTS)),
              OUTPUT_SHAPE=(height // 4, width // 4), LOSS=ns(OHKM=True, TOPK=8, COARSE_TO_FINE=True))


def bench_authors(args: argparse.Namespace, compiled: bool) -> dict:
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    sync = (lambda out: torch.cuda.synchronize()) if device.type == "cuda" else (lambda out: None)
    network = load_authors(args.rsn_dir)
    torch.manual_seed(0)
    model = network.RSN(authors_config(args.height, args.width), run_efficient=False)
    model = model.to(device, memory_format=torch.channels_last)
    h, w = args.height // 4, args.width // 4
    result = {"framework": f"torch {torch.__version__}",
              "model": f"authors' RSN18.coco network.py ({'torch.compile ' + args.compile_backend if compiled else 'eager'})",
              "params_trainable": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
              "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "compiled": compiled, "cudnn_benchmark": bool(torch.backends.cudnn.benchmark)}
    gen = torch.Generator(device="cpu").manual_seed(0)
    x = torch.randn(args.batch, 3, args.height, args.width, generator=gen).to(device, memory_format=torch.channels_last)
    labels = (255.0 * torch.rand(args.batch, NUM_KERNELS, NUM_KEYPOINTS, h, w, generator=gen)).to(device)
    valids = torch.randint(0, 3, (args.batch, NUM_KEYPOINTS, 1), generator=gen).float().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=ADAM["lr"], betas=(ADAM["b1"], ADAM["b2"]), eps=ADAM["eps"],
                           weight_decay=ADAM["weight_decay"])
    autocast = lambda: torch.autocast(device_type=device.type, dtype=torch.bfloat16)  # noqa: E731
    if compiled:
        import torch._dynamo

        torch._dynamo.reset()
        net = torch.compile(model, backend=args.compile_backend, dynamic=False)
    else:
        net = model

    def one_train():
        with autocast():
            loss = sum(net(x, valids, labels).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    model.train()
    result["train"], first = measure(one_train, sync, args.batch, args.warmup, args.windows, args.steps)
    result["first_loss"] = float(first.detach())  # a fixed batch, repeated: the loss must fall
    result["final_loss"] = float(one_train().detach())
    checkpoint(result, f"train (first call {result['train']['first_call_s']:.0f} s)")
    model.eval()
    result["inference"] = {}
    for b in args.infer_batch_list:
        xb = torch.randn(b, 3, args.height, args.width, generator=gen).to(device, memory_format=torch.channels_last)

        def one_infer(xb=xb):
            with torch.inference_mode(), autocast():
                return net(xb)

        result["inference"][str(b)], out = measure(one_infer, sync, b, args.warmup, args.windows, args.steps)
        result["heatmaps"] = f"{tuple(out.shape)} {out.dtype}"
        checkpoint(result, f"inference b{b}")
    if compiled:
        from torch._dynamo.utils import counters

        result["dynamo_graph_breaks"] = {str(k): int(v) for k, v in counters["graph_break"].items()}
        result["dynamo_unique_graphs"] = int(counters["stats"]["unique_graphs"])
    return result


PEERS = {
    "zoo_jax": bench_zoo,
    "authors_eager": lambda a: bench_authors(a, compiled=False),
    "authors_compile": lambda a: bench_authors(a, compiled=True),
}


# --- driver ------------------------------------------------------------------------------------------------


def run_peer(name: str, args: argparse.Namespace, peers: dict | None = None) -> dict:
    """Runs peer `name` of `peers` (this script's PEERS by default); a failure is recorded, not raised."""
    t0 = time.perf_counter()
    try:
        result = (PEERS if peers is None else peers)[name](args)
    except Exception as err:  # a failing peer is recorded, the others still run
        result = {"error": f"{type(err).__name__}: {err}"[:2000], "traceback": traceback.format_exc()[-4000:]}
    result["wall_s"] = time.perf_counter() - t0
    result["tensorflow_imported"] = "tensorflow" in sys.modules
    return result


def run_peer_process(name: str, argv: list[str], timeout: float | None, script: str = __file__) -> dict:
    """`name` in a child process of its own (`script`, this one by default, with --in_process --peers name)."""
    fd, tmp = tempfile.mkstemp(prefix=f"rsn_gpu_{name}-", suffix=".json")
    os.close(fd)
    cmd = [sys.executable, os.path.abspath(script), *argv, "--in_process", "--peers", name, "--out", tmp,
           "--md", os.devnull]
    partial = tmp + ".partial"
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO, timeout=timeout, env={**os.environ, "RSN_GPU_PARTIAL": partial})
    except subprocess.TimeoutExpired:
        os.unlink(tmp)
        result = {}
        if os.path.exists(partial):  # what the peer measured before the limit
            with open(partial) as f:
                result = json.load(f)
            os.unlink(partial)
        result["error"] = f"child process timed out after {timeout} s (measurements before that are kept)"
        result["wall_s"] = time.perf_counter() - t0
        return result
    if os.path.exists(partial):
        os.unlink(partial)
    try:
        with open(tmp) as f:
            return json.load(f)["results"][name]
    except (OSError, ValueError, KeyError):
        return {"error": f"child process exited {proc.returncode} without a result",
                "wall_s": time.perf_counter() - t0}
    finally:
        os.unlink(tmp)


def versions() -> dict:
    """Package versions, read without importing jax or torch into this process."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for package in ("keras", "jax", "jaxlib", "torch", "numpy"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def gpu_name() -> str | None:
    try:
        proc = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30)
        return proc.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def table(payload: dict) -> list[str]:
    batches = payload["settings"]["infer_batches"]
    head = ["peer", f"train img/s (b{payload['settings']['batch']})", *[f"infer img/s (b{b})" for b in batches],
            "train compile s", "note"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in payload["results"].items():
        if "train" not in r:
            rows.append(f"| {name} | " + " | ".join("-" for _ in head[1:-1]) + f" | {r['error'][:100]} |")
            continue
        infer = [_fmt(r["inference"].get(str(b), {}).get("images_per_s")) for b in batches]
        note = f"{r['model']}; loss {r['first_loss']:.1f} -> {r['final_loss']:.1f}" + (
            f"; {r['error'][:100]}" if "error" in r else "")
        rows.append(f"| {name} | {_fmt(r['train']['images_per_s'])} | " + " | ".join(infer)
                    + f" | {r['train']['first_call_s']:.0f} | {note} |")
    return rows


def notes(payload: dict) -> list[str]:
    """Lines under the table: versions, what each peer's step contains, ratios."""
    m, st = payload["machine"], payload["settings"]
    out = [f"- versions: keras {m['keras']}, jax {m['jax']}, torch {m['torch']}, python {m['python']}; "
           f"{st['precision']}; {st['optimizer']}.",
           "- train step = forward + RSN loss (4 levels, OHKM top-8 on the finest, coarse-to-fine targets) + "
           "backward + Adam. Zoo: one jitted function (`stateless_call`, `rsn_loss`, Adam in JAX). Authors: "
           "their `RSN.forward(images, valids, labels)` -> `_calculate_loss` (`JointsL2Loss`, a Python loop "
           "over the samples of the batch), `torch.optim.Adam` (foreach), unpatched "
           f"caiyuanhao1998/RSN@{st['authors_commit'][:7]} exps/RSN18.coco/network.py + lib/utils/loss.py.",
           "- inference: the zoo's jitted forward returns the final \"heatmaps\" only (XLA drops the three "
           "coarser heads, which feed only the loss); the authors' `forward(images)` returns "
           "`outputs[-1][-1]`, after computing all four heads in eager mode.",
           ]
    for name, r in payload["results"].items():
        if "train" not in r:
            continue
        first = ", ".join(f"b{b} {v['first_call_s']:.0f} s" for b, v in r["inference"].items())
        line = (f"- {name}: {r['params_trainable']:,} trainable parameters; first call (compile) train "
                f"{r['train']['first_call_s']:.0f} s, inference {first}; train step median "
                f"{r['train']['median_step_ms']:.2f} ms (windows {r['train']['min_step_ms']:.2f}-"
                f"{r['train']['max_step_ms']:.2f})")
        if "forward_gflop_per_image" in r:
            line += f"; forward {r['forward_gflop_per_image']:.2f} GFLOP/image (convs, all heads)"
        if "dynamo_unique_graphs" in r:
            line += f"; dynamo graphs {r['dynamo_unique_graphs']}, graph breaks {sum(r['dynamo_graph_breaks'].values())}"
        out.append(line + ".")
    commands = {r.get("command") for r in payload["results"].values()}
    if len(commands) > 1:
        out += [f"- {name} measured by `{r.get('command')}`." for name, r in payload["results"].items()]
    ratios = payload.get("ratios_zoo_vs_authors_compile")
    if ratios:
        out.append("- zoo / authors torch.compile: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()) + ".")
    return out


def write_atomic(text: str, path: str) -> None:
    if path == os.devnull:
        return
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".rsn_gpu-", dir=directory)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_results(args: argparse.Namespace, command: str, results: dict) -> list[str]:
    """Writes the JSON and the markdown table of the results so far; returns the table's rows."""
    results = {**{k: results[k] for k in PEER_NAMES if k in results}, **results}  # the usual order
    payload = {
        "command": command,
        "smoke": args.smoke,
        "date": time.strftime("%Y-%m-%d"),
        "gpu": gpu_name(),
        "settings": {"batch": args.batch, "infer_batches": args.infer_batch_list,
                     "input": f"{args.height}x{args.width}x3", "heatmaps": f"{args.height // 4}x{args.width // 4}x17",
                     "steps_per_window": args.steps, "windows": args.windows, "warmup": args.warmup,
                     "precision": "bf16 (keras mixed_bfloat16 / torch.autocast bfloat16, channels_last)",
                     "optimizer": "Adam lr 5e-4 betas (0.9, 0.999) eps 1e-8, L2 weight decay 1e-5 (torch.optim.Adam)",
                     "loss": "RSN multi-level loss, OHKM top-8 on the finest level, coarse-to-fine targets",
                     "inputs": "synthetic: normal images, uniform 0..255 targets, valid in {0, 1, 2}",
                     "zoo_model": args.zoo_model, "authors_commit": AUTHORS_COMMIT,
                     "compile_backend": args.compile_backend},
        "machine": {**versions(), "platform": platform.platform(),
                    "xla_flags": os.environ.get("XLA_FLAGS", ""),
                    "tensorflow_imported": "tensorflow" in sys.modules},
        "results": results,
    }
    zoo, compiled = results.get("zoo_jax", {}), results.get("authors_compile", {})
    if "train" in zoo and "train" in compiled:
        payload["ratios_zoo_vs_authors_compile"] = {
            "train": zoo["train"]["images_per_s"] / compiled["train"]["images_per_s"],
            **{f"inference_b{b}": zoo["inference"][str(b)]["images_per_s"]
               / compiled["inference"][str(b)]["images_per_s"] for b in args.infer_batch_list
               if str(b) in zoo["inference"] and str(b) in compiled["inference"]}}
    rows = table(payload)
    write_atomic(json.dumps(payload, indent=2) + "\n", args.out)
    md = [f"# RSN-18 throughput on one GPU ({payload['gpu'] or 'no GPU'})", "",
          f"`{command}` ({payload['date']}); {args.height}x{args.width}, bf16, synthetic data; images/s from the "
          f"median of {args.windows} windows of {args.steps} steps after {args.warmup + 1} warm-up calls; "
          "each peer in its own process.", "", *rows, "", *notes(payload), ""]
    write_atomic("\n".join(md), args.md)
    return rows


def main(argv: list[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw)
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        print(f"unknown peers {unknown}; choose from {', '.join(PEERS)}", file=sys.stderr)
        return 2
    child_argv = []  # the caller's options minus those the parent sets for each child
    skip = False
    for item in raw:
        if skip:
            skip = False
            continue
        if item in ("--peers", "--out", "--md", "--peer_timeout", "--keep_from"):
            skip = True
            continue
        if item.split("=")[0] in ("--peers", "--out", "--md", "--peer_timeout", "--keep_from") or item == "--in_process":
            continue
        child_argv.append(item)
    command = "python3 benchmarks/gpu_pose.py" + (" " + " ".join(raw) if raw else "")
    results = {}
    if args.keep_from:
        with open(args.keep_from) as f:
            earlier = json.load(f)
        for name, result in earlier["results"].items():
            if name not in peers:
                results[name] = {**result, "command": result.get("command", earlier["command"])}
    for name in peers:
        if args.in_process:
            results[name] = run_peer(name, args)
        else:
            results[name] = run_peer_process(name, child_argv, args.peer_timeout)
        results[name]["command"] = command
        print(f"{name}: done in {results[name]['wall_s']:.0f} s"
              + (f" ERROR {results[name]['error'][:300]}" if "error" in results[name] else ""), flush=True)
        rows = write_results(args, command, results)  # after every peer: a later hang loses nothing
    print("\n" + "\n".join(rows))
    print(f"\nwrote {args.out} and {args.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

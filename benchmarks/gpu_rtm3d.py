"""RTM3D-ResNet18 inference speed at 384x1280 (frames/s): the zoo on JAX beside the authors' PyTorch (KM3D).

    python3 benchmarks/gpu_rtm3d.py [--batches 1,8] [--precisions float32,bfloat16] [--windows 10]
        [--steps 20] [--warmup 5] [--peers zoo_jax,authors_eager,authors_compile] [--km3d_dir .peer/km3d]
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python benchmarks/gpu_rtm3d.py --smoke   # tiny, CPU, checks only

One GPU, synthetic images (random weights: speed does not depend on them), each peer in its own process:
  - zoo_jax: the registered `rtm3d_resnet18` built from its VARIANTS entry (Keras 3 on JAX, no
    TensorFlow), fp32 or the "mixed_bfloat16" policy. "network": a jitted `stateless_call` returning
    the nine head maps; "detect": network + decoding + geometry in one jitted function (decode.py:
    peaks, top-100, keypoint snapping, multi-bin orientation, KM3D's closed-form location "grm"; also
    "detect_gn" with RTM3D's 10 Levenberg-Marquardt iterations).
  - authors_eager / authors_compile: KM3D's `PoseResNet` (Banconxuan/RTM3D src/lib/models/networks/
    msra_resnet.py, commit 888c379, copied unmodified into the git-ignored --km3d_dir and loaded by path;
    `cv2` is stubbed, the file imports it for a debug drawing helper) with the nine heads and head_conv
    64, channels_last, eval mode, under inference_mode (+ autocast bfloat16); "network" = its forward;
    "detect" (eager only) adds KM3D's own `car_pose_decode` + `gen_position` (src/lib/models/decode.py
    and utils.py in --km3d_dir/models/) after the sigmoids, as its detector's `process` runs them.
Timing as benchmarks/gpu_pose.py `measure`: the first (compiling) call alone, warm-up, then windows of
synchronised steps; frames/s from the median window.
The paper's claim: > 24 FPS at 1280x384 (RTM3D, 1080 Ti, DLA-34); KM3D README: 46.7 FPS ResNet-18,
28.6 FPS DLA-34 on a 1080 Ti (batch 1, forward + decoding).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import tempfile
import time
import types

os.environ.setdefault("KERAS_BACKEND", "jax")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks.gpu_pose import (  # noqa: E402
    gpu_name,
    load_module,
    measure,
    run_peer,
    run_peer_process,
    versions,
    write_atomic,
)

PEER_NAMES = ("zoo_jax", "authors_eager", "authors_compile")
HEADS = {"hm": 3, "wh": 2, "hps": 18, "rot": 8, "dim": 3, "prob": 1, "reg": 2, "hm_hp": 9, "hp_offset": 2}
KITTI_P2 = [[721.5377, 0.0, 609.5593, 44.85728], [0.0, 721.5377, 172.854, 0.2163791], [0.0, 0.0, 1.0, 0.002745884]]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batches", default="1,8", help="comma-separated batch sizes")
    p.add_argument("--precisions", default="float32,bfloat16", help="float32 and/or bfloat16")
    p.add_argument("--height", type=int, default=384)
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--steps", type=int, default=20, help="calls per timed window")
    p.add_argument("--windows", type=int, default=10, help="timed windows; the figure uses their median")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls after the first (compiling) one")
    p.add_argument("--peers", default=",".join(PEER_NAMES), help=f"comma-separated subset of {', '.join(PEER_NAMES)}")
    p.add_argument("--km3d_dir", default=os.path.join(REPO, ".peer", "km3d"),
                   help="folder with the authors' msra_resnet.py and models/{decode,utils}.py (not in this repo)")
    p.add_argument("--peer_timeout", type=float, default=None, help="seconds each peer's process may run")
    p.add_argument("--in_process", action="store_true", help="run the peers in this process")
    p.add_argument("--smoke", action="store_true", help="CPU-sized run that checks the script")
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/rtm3d_gpu.json)")
    p.add_argument("--md", default=None, help="markdown table (default next to --out)")
    args = p.parse_args(argv)
    if args.smoke:
        args.batches, args.precisions, args.height, args.width = "1", "float32", 64, 192
        args.steps, args.windows, args.warmup = 1, 2, 0
    args.batch_list = [int(b) for b in args.batches.split(",") if b.strip()]
    args.precision_list = [s.strip() for s in args.precisions.split(",") if s.strip()]
    if args.out is None:
        name = "rtm3d_gpu_smoke.json" if args.smoke else "rtm3d_gpu.json"
        args.out = os.path.join(tempfile.gettempdir() if args.smoke else os.path.join(REPO, "benchmarks", "results"), name)
    if args.md is None:
        args.md = os.path.splitext(args.out)[0] + ".md"
    return args


def _zoo_rows(args, precision: str) -> dict:
    """Frames/s of the network, + GRM decoding, + LM decoding per batch, at one precision."""
    import jax
    import keras
    import numpy as np

    from official.vision.rtm3d.decode import decode_detections
    from official.vision.rtm3d.model import RTM3D
    from official.vision.rtm3d.variants import VARIANTS

    keras.config.set_dtype_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    model = RTM3D(**{**VARIANTS["rtm3d_resnet18"], "input_shape": (args.height, args.width, 3)})
    keras.config.set_dtype_policy("float32")
    weights = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables])

    @jax.jit
    def network(weights, x):
        return model.stateless_call(*weights, x, training=False)[0]

    @functools.partial(jax.jit, static_argnames="geometry")
    def detect(weights, x, P2, geometry):
        heads = model.stateless_call(*weights, x, training=False)[0]
        return decode_detections(heads, P2, model.stride, geometry=geometry)

    rows = {}
    for batch in args.batch_list:
        x = jax.device_put(np.random.default_rng(0).uniform(0, 255, (batch, args.height, args.width, 3)).astype("float32"))
        P2 = jax.device_put(np.tile(np.asarray(KITTI_P2, "float32")[None], (batch, 1, 1)))
        calls = {"network": functools.partial(network, weights, x),
                 "detect": functools.partial(detect, weights, x, P2, "grm"),
                 "detect_gn": functools.partial(detect, weights, x, P2, "gauss_newton")}
        rows[str(batch)] = {k: measure(f, jax.block_until_ready, batch, args.warmup, args.windows, args.steps)[0]
                            for k, f in calls.items()}
        print(f"  zoo {precision} batch {batch}: done", flush=True)
    return rows


def bench_zoo(args) -> dict:
    import jax

    out = {"model": "rtm3d_resnet18", "device": str(jax.devices()[0])}
    for precision in args.precision_list:
        out[precision] = _zoo_rows(args, precision)
    return out


def _authors_modules(km3d_dir: str):
    sys.modules.setdefault("cv2", types.ModuleType("cv2"))  # imported for a drawing helper only
    net = load_module(os.path.join(km3d_dir, "msra_resnet.py"), "km3d_msra_resnet")
    pkg = types.ModuleType("km3d_models")
    pkg.__path__ = [os.path.join(km3d_dir, "models")]
    sys.modules["km3d_models"] = pkg
    load_module(os.path.join(km3d_dir, "models", "utils.py"), "km3d_models.utils")
    decode = load_module(os.path.join(km3d_dir, "models", "decode.py"), "km3d_models.decode")
    return net, decode


def bench_authors(args, compiled: bool) -> dict:
    import numpy as np
    import torch

    msra, decode = _authors_modules(args.km3d_dir)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = msra.PoseResNet(msra.BasicBlock, [2, 2, 2, 2], HEADS, head_conv=64).to(device).eval()
    model = model.to(memory_format=torch.channels_last)
    forward = torch.compile(model, dynamic=False, backend="aot_eager" if args.smoke else "inductor") if compiled else model
    const = torch.Tensor([[-1, 0], [0, -1]] * 8).unsqueeze(0).unsqueeze(0).to(device)
    sync = (lambda _: torch.cuda.synchronize()) if device == "cuda" else (lambda _: None)
    out = {"model": "KM3D PoseResNet-18 (msra_resnet.py)", "device": device, "torch": torch.__version__}
    for precision in args.precision_list:
        rows = {}
        for batch in args.batch_list:
            x = torch.from_numpy(np.random.default_rng(0).uniform(-2, 2, (batch, 3, args.height, args.width)).astype("float32"))
            x = x.to(device).contiguous(memory_format=torch.channels_last)
            meta = {"trans_output_inv": torch.tensor([[[4.0, 0, 0], [0, 4.0, 0]]] * batch, device=device),
                    "calib": torch.tensor([KITTI_P2] * batch, device=device)}
            autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bfloat16")

            def net(x=x, autocast=autocast):
                with torch.inference_mode(), autocast:
                    return forward(x)[0]

            def detect(x=x, autocast=autocast, meta=meta):
                with torch.inference_mode(), autocast:
                    o = forward(x)[0]
                    o = {k: v.float() for k, v in o.items()}
                    return decode.car_pose_decode(o["hm"].sigmoid_(), o["wh"], o["hps"], o["dim"], o["rot"], prob=o["prob"],
                                                  reg=o["reg"], hm_hp=o["hm_hp"].sigmoid_(), hp_offset=o["hp_offset"],
                                                  K=100, meta=meta, const=const)

            rows[str(batch)] = {"network": measure(net, sync, batch, args.warmup, args.windows, args.steps)[0]}
            if not compiled:
                try:
                    rows[str(batch)]["detect"] = measure(detect, sync, batch, args.warmup, args.windows, args.steps)[0]
                except Exception as err:  # their decoder hard-codes .cuda() and batch-1 shapes in places
                    rows[str(batch)]["detect_error"] = f"{type(err).__name__}: {err}"[:500]
            print(f"  authors {'compile' if compiled else 'eager'} {precision} batch {batch}: done", flush=True)
        out[precision] = rows
    return out


PEERS = {"zoo_jax": bench_zoo, "authors_eager": lambda a: bench_authors(a, False), "authors_compile": lambda a: bench_authors(a, True)}


def table(results: dict, args) -> list[str]:
    rows = ["| implementation | precision | batch | network frames/s | + decode (GRM) frames/s | + decode (10 LM iterations) |",
            "|---|---|---|---|---|---|"]
    for name, result in results.items():
        for precision in args.precision_list:
            for batch, r in result.get(precision, {}).items():
                fps = [r[k]["images_per_s"] if k in r else None for k in ("network", "detect", "detect_gn")]
                cells = ["-" if v is None else f"{v:,.1f}" for v in fps]
                rows.append(f"| {name} | {precision} | {batch} | " + " | ".join(cells) + " |")
    return rows


def main(argv=None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw)
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    child = [a for i, a in enumerate(raw) if a not in ("--in_process",) and not a.startswith(("--peers", "--out", "--md"))
             and (i == 0 or raw[i - 1] not in ("--peers", "--out", "--md"))]
    command = "python3 benchmarks/gpu_rtm3d.py" + (" " + " ".join(raw) if raw else "")
    results = {}
    for name in peers:
        results[name] = run_peer(name, args, PEERS) if args.in_process else run_peer_process(name, child, args.peer_timeout, __file__)
        print(f"{name}: {results[name].get('error', 'ok')[:300]}", flush=True)
    payload = {"command": command, "date": time.strftime("%Y-%m-%d"), "gpu": gpu_name(), "smoke": args.smoke,
               "settings": {"input": f"{args.height}x{args.width}x3", "batches": args.batch_list,
                            "precisions": args.precision_list, "windows": args.windows, "steps_per_window": args.steps,
                            "warmup": args.warmup},
               "machine": {**versions(), "platform": platform.platform()}, "results": results}
    write_atomic(json.dumps(payload, indent=2) + "\n", args.out)
    rows = table(results, args)
    write_atomic("\n".join([f"# RTM3D-ResNet18 inference on one GPU ({payload['gpu'] or 'no GPU'})", "",
                            f"`{command}` ({payload['date']}); random weights, synthetic images.", "", *rows, ""]), args.md)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

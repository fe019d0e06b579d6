"""Which top-k shapes make XLA's GPU compiler run away (the CPN-DLA34 batch-1 compile killed at 128 GB).

    KERAS_BACKEND=jax python benchmarks/xla_topk_probe.py [--limit_s 25] [--limit_gb 8] [--out probe.json]

Each case compiles one jitted function in a child process that is killed when its resident memory
passes --limit_gb or its time passes --limit_s, and reports compile seconds and peak RSS (sampled
every 0.2 s). Cases: `lax.top_k` of (B, N) with k = 70 at the CPN-DLA34 size N = 128 * 128 * 80 =
1,310,720 (a multiple of 1024 above 2^20) at batch 1 and 2, at N + 1, at k > sqrt(N), at batch 1
with XLA's `topk-splitter` pass disabled; and the CPN-DLA34 network body + proposal head at batch 1
with the old single top-k decoding and with the current two-stage decoding (decode.top_corners).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> (extra XLA_FLAGS, python code run in the child; it prints one JSON line)
TOPK = """
import json, time, jax, jax.numpy as jnp
x = jax.ShapeDtypeStruct(({b}, {n}), jnp.float32)
t = time.perf_counter()
jax.jit(lambda v: jax.lax.top_k(v, {k})).lower(x).compile()
print(json.dumps({{"compile_s": time.perf_counter() - t}}))
"""

CPN = """
import json, os, sys, time, types, importlib
os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, {repo!r})
import jax, keras, numpy as np
from keras import ops
from benchmarks import cpn_inference
model_mod, variants = cpn_inference.cpn_modules()
decode = importlib.import_module("official.vision.cpn.decode")
if {single!r}:
    def single_top_corners(heat, k):  # the decoding before the fix: one top_k over H * W * C
        _, height, width, channels = heat.shape
        scores, index = ops.top_k(ops.reshape(heat, (-1, height * width * channels)), k)
        index = ops.cast(index, "int32")
        cells = index // channels
        return {{"scores": scores, "classes": index % channels, "cells": cells,
                "xs": ops.cast(cells % width, "float32"), "ys": ops.cast(cells // width, "float32")}}
    decode.top_corners = single_top_corners
model = model_mod.CPN(**dict(variants.VARIANTS["cpn_dla34"]))
variables = model.trainable_variables + model.non_trainable_variables
def run(values, images):
    with keras.StatelessScope(state_mapping=list(zip(variables, values))):
        return model(images, training=False)
t = time.perf_counter()
jax.jit(run).lower([v.value for v in variables], jax.ShapeDtypeStruct((1, 511, 511, 3), np.float32)).compile()
print(json.dumps({{"compile_s": time.perf_counter() - t}}))
"""

N = 128 * 128 * 80


def cases() -> dict:
    return {
        "topk_b1_n1310720_k70": ("", TOPK.format(b=1, n=N, k=70)),
        "topk_b2_n1310720_k70": ("", TOPK.format(b=2, n=N, k=70)),
        "topk_b1_n1310721_k70": ("", TOPK.format(b=1, n=N + 1, k=70)),
        "topk_b1_n1310720_k1200": ("", TOPK.format(b=1, n=N, k=1200)),
        "topk_b1_n1310720_k70_no_splitter": ("--xla_disable_hlo_passes=topk-splitter", TOPK.format(b=1, n=N, k=70)),
        "cpn_dla34_network_b1_single_topk": ("", CPN.format(repo=REPO, single=True)),
        "cpn_dla34_network_b1_two_stage_topk": ("", CPN.format(repo=REPO, single=False)),
    }


def run_case(flags: str, code: str, limit_s: float, limit_gb: float) -> dict:
    env = dict(os.environ)
    env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    if flags:
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " " + flags).strip()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    peak_kb, killed = 0, None
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            peak_kb = max(peak_kb, rss)
        except (OSError, StopIteration):
            pass
        elapsed = time.perf_counter() - start
        if peak_kb > limit_gb * 1024 * 1024 or elapsed > limit_s:
            killed = f"killed at {peak_kb / 1024 / 1024:.1f} GB RSS after {elapsed:.0f} s"
            proc.kill()
            break
        time.sleep(0.2)
    out, err = proc.communicate()
    row = {"wall_s": time.perf_counter() - start, "peak_rss_gb": peak_kb / 1024 / 1024, "xla_flags": flags}
    if killed:
        row["killed"] = killed
    elif proc.returncode != 0:
        row["error"] = err.strip().splitlines()[-1][:300] if err.strip() else f"exit {proc.returncode}"
    else:
        row.update(json.loads(out.strip().splitlines()[-1]))
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--limit_s", type=float, default=25.0)
    p.add_argument("--limit_gb", type=float, default=8.0)
    p.add_argument("--cases", default="", help="comma-separated subset (default: all)")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    chosen = cases()
    if args.cases:
        chosen = {k: v for k, v in chosen.items() if k in args.cases.split(",")}
    results = {}
    for name, (flags, code) in chosen.items():
        results[name] = run_case(flags, code, args.limit_s, args.limit_gb)
        r = results[name]
        status = r.get("killed") or r.get("error") or f"compiled in {r['compile_s']:.1f} s"
        print(f"{name:<40} peak {r['peak_rss_gb']:5.1f} GB  {status}", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where MobileNeXt-1.0's jitted inference step spends its time on one GPU (Keras 3 on JAX, bf16).

    KERAS_BACKEND=jax python benchmarks/mobilenext_jax_profile.py [--variants keras,folded] [--peaks]
        [--trace DIR] [--hlo DIR] [--out results.json]

For each variant: ms per batch of 256 (median of --reps timings of --steps calls), images/s, XLA's
cost analysis of the compiled step (flops, bytes accessed) and so the achieved FLOP/s and bytes/s,
and a census of the optimized HLO (cuDNN convolutions by kind, fusions, copies/transposes). With
--peaks it first measures the two ceilings on this device (an elementwise pass over 2 GiB, bytes
read + written; an 8192^3 bf16 matrix product on random data). XLA flags (XLA_FLAGS) apply to the
whole process: run it once per flag set.

Variants (the same network and weights; `max_abs_diff` is each one's logits against "keras"):
- keras: `model.stateless_call(..., training=False)` under mixed_bfloat16, float32 input: the step
  benchmarks/gpu_throughput.py times;
- fused: `model.fuse_batchnorm()`, the inference copy with every BatchNorm folded into the conv before it
  (kernel * gamma / sqrt(var + eps), bias beta - mean * gamma / sqrt(var + eps));
- BASE+MOD: experiments patched in while tracing (`patched_layers`): +dwsum each 3x3 depthwise conv as
  nine shifted multiply-adds in float32 (one XLA loop fusion with its neighbouring bias / ReLU6 / add)
  instead of a cuDNN grouped convolution; +dot 1x1 convs as matmuls; +stem4 / +stem8 the stem conv's
  3 input channels zero-padded; +stemdot the stem conv as im2col + matmul; +bf16in the images handed
  over in bfloat16.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def load_mobilenext_module():
    path = os.path.join(REPO, "official", "vision", "mobilenext", "model.py")
    spec = importlib.util.spec_from_file_location("mobilenext_model", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def shifted_sum_depthwise(inputs, kernel, strides: int, padding: str):
    """3x3 depthwise conv (NHWC, kernel (3, 3, C, 1)) as nine strided slices times weights, float32 sums."""
    import jax.numpy as jnp

    x = inputs
    if padding == "same":
        if strides != 1:
            raise ValueError("same padding only at stride 1 here")
        x = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    kh, kw = kernel.shape[:2]
    out_h = (x.shape[1] - kh) // strides + 1
    out_w = (x.shape[2] - kw) // strides + 1
    xf, kf = x.astype(jnp.float32), jnp.asarray(kernel).astype(jnp.float32)
    acc = None
    for i in range(kh):
        for j in range(kw):
            tap = xf[:, i : i + strides * (out_h - 1) + 1 : strides, j : j + strides * (out_w - 1) + 1 : strides, :]
            term = tap * kf[i, j, :, 0]
            acc = term if acc is None else acc + term
    return acc.astype(inputs.dtype)


class patched_layers:
    """While active, Keras conv layers are traced differently (experiments; the weights are the same):
    "dwsum": 3x3 DepthwiseConv2D as `shifted_sum_depthwise`; "dot": 1x1 stride-1 Conv2D as a matmul
    over the channel axis (XLA may then fuse neighbouring elementwise ops into a Triton GEMM);
    "stem4" / "stem8": the 3-channel stem conv with its input and kernel zero-padded to 4 / 8 channels;
    "stemdot": the stem conv as im2col (nine strided taps concatenated) and one matmul."""

    def __init__(self, mods: set[str]):
        self.mods = mods

    def __enter__(self):
        import jax
        import jax.numpy as jnp
        import keras

        self.saved = (keras.layers.DepthwiseConv2D.call, keras.layers.Conv2D.call)
        dw_call, conv_call = self.saved
        mods = self.mods

        def depthwise(layer, inputs):
            if "dwsum" not in mods:
                return dw_call(layer, inputs)
            out = shifted_sum_depthwise(inputs, layer.kernel, layer.strides[0], layer.padding)
            return out + jnp.asarray(layer.bias) if layer.use_bias else out

        def conv(layer, inputs):
            kernel = jnp.asarray(layer.kernel)
            if "dot" in mods and tuple(layer.kernel_size) == (1, 1) and tuple(layer.strides) == (1, 1):
                out = jax.lax.dot_general(inputs, kernel[0, 0], (((inputs.ndim - 1,), (0,)), ((), ())))
            elif inputs.shape[-1] == 3 and "stemdot" in mods:  # im2col: 9 strided taps, one (27, C) matmul
                kh, kw, cin, cout = kernel.shape
                sh, sw = layer.strides
                oh, ow = (inputs.shape[1] - kh) // sh + 1, (inputs.shape[2] - kw) // sw + 1
                taps = [inputs[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw, :]
                        for i in range(kh) for j in range(kw)]
                patches = jnp.concatenate(taps, axis=-1)
                out = jax.lax.dot_general(patches, kernel.reshape(kh * kw * cin, cout), (((3,), (0,)), ((), ())))
            elif inputs.shape[-1] == 3 and ({"stem4", "stem8"} & mods):
                width = 8 if "stem8" in mods else 4
                x = jnp.pad(inputs, ((0, 0), (0, 0), (0, 0), (0, width - 3)))
                k = jnp.pad(kernel, ((0, 0), (0, 0), (0, width - 3), (0, 0)))
                out = jax.lax.conv_general_dilated(x, k, layer.strides, layer.padding.upper(),
                                                   dimension_numbers=("NHWC", "HWIO", "NHWC"))
            else:
                return conv_call(layer, inputs)
            return out + jnp.asarray(layer.bias) if layer.use_bias else out

        keras.layers.DepthwiseConv2D.call = depthwise
        keras.layers.Conv2D.call = conv
        return self

    def __exit__(self, *exc):
        import keras

        keras.layers.DepthwiseConv2D.call, keras.layers.Conv2D.call = self.saved


def time_fn(fn, args, steps: int, reps: int) -> list[float]:
    import jax

    jax.block_until_ready(fn(*args))
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(steps):
            out = fn(*args)
        jax.block_until_ready(out)
        times.append((time.perf_counter() - t) / steps)
    return times


def measure_peaks() -> dict:
    """Copy bandwidth (bytes read + written per second) and bf16 matmul FLOP/s, medians of 5."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    a = jax.random.normal(jax.random.PRNGKey(1), (1 << 30,), jnp.bfloat16)  # 2 GiB
    scale = jax.jit(lambda v: v * 2)
    t = np.median(time_fn(scale, (a,), 10, 5))
    copy = 2 * a.nbytes / t
    del a
    m = jax.random.normal(jax.random.PRNGKey(2), (8192, 8192), jnp.bfloat16)
    n = jax.random.normal(jax.random.PRNGKey(3), (8192, 8192), jnp.bfloat16)
    mm = jax.jit(lambda x, y: x @ y)
    t = np.median(time_fn(mm, (m, n), 10, 5))
    return {"copy_bytes_per_s": copy, "bf16_matmul_flop_per_s": 2 * 8192**3 / t}


def hlo_census(text: str) -> dict:
    import re

    targets = re.findall(r'custom_call_target="([^"]+)"', text)
    census = {}
    for t in targets:
        census[t] = census.get(t, 0) + 1
    census["fusion_calls"] = len(re.findall(r"= [^ ]+ fusion\(", text))
    census["copy_or_transpose_fusions"] = len(re.findall(r"kind=kLoop, calls=%?[\w.-]*(?:copy|transpose)", text))
    census["top_level_transposes"] = len(re.findall(r"= [^ ]+ transpose\(", text))
    return census


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--image_size", type=int, default=224)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--variants", default="keras,fused", help="comma-separated BASE[+MOD...], BASE keras|fused, "
                   "MOD dwsum|dot|stem4|stem8|stemdot|bf16in (see patched_layers)")
    p.add_argument("--peaks", action="store_true")
    p.add_argument("--trace", default=None, help="folder for one profiler trace (xplane.pb) per variant")
    p.add_argument("--hlo", default=None, help="folder for the optimized HLO text of each variant")
    p.add_argument("--tag", default="", help="label of this run (e.g. the XLA flags)")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)

    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np

    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    mod = load_mobilenext_module()
    model = mod.MobileNeXt(width=1.0, input_shape=(args.image_size, args.image_size, 3), classes=1000)
    # Random BN statistics and affine parameters, as converted weights would have (fresh ones are 0/1).
    rng = np.random.default_rng(0)
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, c).astype("float32"))
            layer.beta.assign(rng.normal(0, 0.1, c).astype("float32"))
            layer.moving_mean.assign(rng.normal(0, 0.1, c).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, c).astype("float32"))
    x32 = jax.random.normal(jax.random.PRNGKey(0), (args.batch, args.image_size, args.image_size, 3), jnp.float32)

    def stateless(m, mods: set[str]):
        tv = [v.value for v in m.trainable_variables]
        ntv = [v.value for v in m.non_trainable_variables]

        def run(tv, ntv, x):
            with patched_layers(mods):
                return m.stateless_call(tv, ntv, x, training=False)[0]

        return jax.jit(run), (tv, ntv)

    variants = {}
    fused_model = None
    for name in args.variants.split(","):
        base, *mods = name.split("+")
        mods = set(mods)
        unknown = mods - {"dwsum", "dot", "stem4", "stem8", "stemdot", "bf16in"}
        if base not in ("keras", "fused") or unknown:
            raise SystemExit(f"unknown variant {name}")
        if base == "fused":
            fused_model = fused_model or model.fuse_batchnorm()
        fn, state = stateless(fused_model if base == "fused" else model, mods)
        variants[name] = (fn, state + ((x32.astype(jnp.bfloat16) if "bf16in" in mods else x32),))

    results = {"tag": args.tag, "xla_flags": os.environ.get("XLA_FLAGS", ""), "batch": args.batch,
               "device": str(jax.devices()[0].device_kind), "jax": jax.__version__, "keras": keras.__version__,
               "variants": {}}
    if args.peaks:
        results["peaks"] = measure_peaks()
        print(f"peaks: copy {results['peaks']['copy_bytes_per_s'] / 1e12:.2f} TB/s, "
              f"bf16 matmul {results['peaks']['bf16_matmul_flop_per_s'] / 1e12:.0f} TFLOP/s", flush=True)
    reference = None
    for name, (fn, fargs) in variants.items():
        t = time.perf_counter()
        compiled = fn.lower(*fargs).compile()
        compile_s = time.perf_counter() - t
        cost = compiled.cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        text = compiled.as_text()
        if args.hlo:
            os.makedirs(args.hlo, exist_ok=True)
            with open(os.path.join(args.hlo, f"{name}.hlo.txt"), "w") as f:
                f.write(text)
        times = time_fn(fn, fargs, args.steps, args.reps)
        ms = 1000 * float(np.median(times))
        logits = np.asarray(fn(*fargs), np.float32)
        if reference is None:
            reference = logits
        row = {
            "ms_per_batch": ms, "ms_all": [1000 * x for x in times], "images_per_s": args.batch / ms * 1000,
            "compile_s": compile_s, "flops": float(cost.get("flops", 0.0)),
            "bytes_accessed": float(cost.get("bytes accessed", 0.0)),
            "max_abs_diff_vs_first": float(np.max(np.abs(logits - reference))),
            "top1_agreement_vs_first": float(np.mean(logits.argmax(-1) == reference.argmax(-1))),
            "hlo": hlo_census(text),
        }
        row["achieved_flop_per_s"] = row["flops"] / (ms / 1000)
        row["achieved_bytes_per_s"] = row["bytes_accessed"] / (ms / 1000)
        results["variants"][name] = row
        print(f"{args.tag:<24} {name:<18} {ms:7.3f} ms  {row['images_per_s']:9.0f} img/s  "
              f"{row['achieved_flop_per_s'] / 1e12:6.1f} TFLOP/s  {row['achieved_bytes_per_s'] / 1e12:5.2f} TB/s "
              f"(cost: {row['flops'] / 1e9:.0f} GFLOP, {row['bytes_accessed'] / 1e9:.2f} GB)  "
              f"diff {row['max_abs_diff_vs_first']:.3g}  compile {compile_s:.0f} s", flush=True)
        if args.trace:
            tmp = os.path.join(args.trace, f"_{name}")
            jax.profiler.start_trace(tmp)
            for _ in range(5):
                out = fn(*fargs)
            jax.block_until_ready(out)
            jax.profiler.stop_trace()
            for root, _, files in os.walk(tmp):
                for fname in files:
                    if fname.endswith(".xplane.pb"):
                        shutil.move(os.path.join(root, fname), os.path.join(args.trace, f"{args.tag or 'run'}_{name}.xplane.pb"))
            shutil.rmtree(tmp, ignore_errors=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

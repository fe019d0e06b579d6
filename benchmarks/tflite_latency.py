"""TFLite single-image CPU latency: MobileNeXt-1.0 against keras.applications MobileNetV2-1.0.

    python -m benchmarks.tflite_latency [--runs=60] [--threads=1,2] [--out=benchmarks/results/tflite_latency.json]

Both networks are converted in the same process with the zoo's converter (official.core.export_tflite),
as float32 and as full-integer int8 (calibrated on random images: latency does not depend on the
weights' values), plus MobileNeXt-1.0 with the identity tensor multiplier 1/2. Each configuration is
timed in interleaved rounds (model A, B, C, A, B, C, ...) after a warm-up, so that load from other
processes on a shared CPU hits every model alike; the median of all runs is reported per model and the
ratio against MobileNetV2. Latency is `invoke()` only (input already set), batch 1, 224x224x3.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("runs", 60, "Timed runs per model and configuration (median reported; >= 50).")
flags.DEFINE_integer("warmup", 10, "Untimed runs before timing.")
flags.DEFINE_integer("rounds", 6, "Runs are split into this many interleaved rounds over the models.")
flags.DEFINE_list("threads", ["1", "2"], "Interpreter thread counts to time.")
flags.DEFINE_list("dtypes", ["fp32", "int8"], "fp32 and/or int8 (full integer).")
flags.DEFINE_integer("image_size", 224, "Input side.")
flags.DEFINE_string("out", "benchmarks/results/tflite_latency.json", "Where to write the results JSON.")

BASELINE = "mobilenetv2_100 (keras.applications)"


def build_models(size: int) -> dict:
    """name -> Keras model (random weights, 1000 classes)."""
    import keras

    from official.vision.mobilenext.model import MobileNeXt

    shape = (size, size, 3)
    return {
        "mobilenext_100": MobileNeXt(width=1.0, input_shape=shape),
        "mobilenext_100 (identity 1/2)": MobileNeXt(width=1.0, identity_divisor=2, input_shape=shape),
        # logits like the others (keras.applications would append a softmax)
        BASELINE: keras.applications.MobileNetV2(
            alpha=1.0, weights=None, input_shape=shape, classifier_activation=None
        ),
    }


def convert(model, dtype: str, size: int) -> bytes:
    import numpy as np

    from official.core.export_tflite import convert_tflite

    def representative():
        rng = np.random.default_rng(0)
        for _ in range(16):
            yield [rng.normal(size=(1, size, size, 3)).astype(np.float32)]

    return convert_tflite(model, "int8" if dtype == "int8" else "none", representative)


def make_runner(tflite_bytes: bytes, threads: int):
    """A zero-argument callable that runs one inference (input set once; invoke timed)."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=tflite_bytes, num_threads=threads)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    x = np.random.default_rng(1).normal(size=inp["shape"]).astype(np.float32)
    if inp["dtype"] == np.int8:
        scale, zero = inp["quantization"]
        x = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
    interp.set_tensor(inp["index"], x)
    return interp.invoke


def time_interleaved(runners: dict, runs: int, warmup: int, rounds: int) -> dict[str, list[float]]:
    for run in runners.values():
        for _ in range(warmup):
            run()
    times: dict[str, list[float]] = {name: [] for name in runners}
    per_round = -(-runs // rounds)
    for _ in range(rounds):
        for name, run in runners.items():
            for _ in range(per_round):
                t0 = time.perf_counter()
                run()
                times[name].append((time.perf_counter() - t0) * 1e3)
    return times


def _write_json_atomic(obj: object, path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tflite_latency-", suffix=".json", dir=directory)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main(argv: list[str]) -> None:
    import numpy as np
    import tensorflow as tf

    from official.core.export_tflite import tflite_op_names

    if FLAGS.runs < 50:
        raise app.UsageError("--runs must be >= 50")
    size = FLAGS.image_size
    models = build_models(size)
    flatbuffers: dict[tuple[str, str], bytes] = {}
    ops: dict[str, dict[str, list[str]]] = {}
    for dtype in FLAGS.dtypes:
        for name, model in models.items():
            t0 = time.perf_counter()
            flatbuffers[(name, dtype)] = convert(model, dtype, size)
            ops.setdefault(name, {})[dtype] = tflite_op_names(flatbuffers[(name, dtype)])
            print(f"converted {name} {dtype} in {time.perf_counter() - t0:.0f} s "
                  f"({len(flatbuffers[(name, dtype)]) / 1e6:.1f} MB)", flush=True)
    rows = []
    for dtype in FLAGS.dtypes:
        for threads in (int(t) for t in FLAGS.threads):
            runners = {name: make_runner(flatbuffers[(name, dtype)], threads) for name in models}
            times = time_interleaved(runners, FLAGS.runs, FLAGS.warmup, FLAGS.rounds)
            base = float(np.median(times[BASELINE]))
            for name, t in times.items():
                med = float(np.median(t))
                rows.append({
                    "model": name,
                    "dtype": dtype,
                    "threads": threads,
                    "median_ms": med,
                    "p10_ms": float(np.percentile(t, 10)),
                    "p90_ms": float(np.percentile(t, 90)),
                    "runs": len(t),
                    "ratio_vs_mobilenetv2": med / base,
                    "size_mb": len(flatbuffers[(name, dtype)]) / 1e6,
                })
    header = f"{'model':<32} {'dtype':<5} {'thr':>3} {'median ms':>10} {'p10':>8} {'p90':>8} {'vs MBV2':>8} {'MB':>6}"
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        print(f"{r['model']:<32} {r['dtype']:<5} {r['threads']:>3} {r['median_ms']:>10.2f} {r['p10_ms']:>8.2f} "
              f"{r['p90_ms']:>8.2f} {r['ratio_vs_mobilenetv2']:>8.3f} {r['size_mb']:>6.1f}")
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    payload = {
        "command": "python -m benchmarks.tflite_latency",
        "settings": {"runs": FLAGS.runs, "warmup": FLAGS.warmup, "rounds": FLAGS.rounds, "image_size": size,
                     "batch": 1, "interleaved": True},
        "machine": {"cpu": cpu, "cpus_visible": os.cpu_count(), "python": platform.python_version(),
                    "tensorflow": tf.__version__, "platform": platform.platform(),
                    "load_average_at_end": os.getloadavg()},
        "rows": rows,
        "ops": ops,
    }
    _write_json_atomic(payload, FLAGS.out)
    print(f"\nwrote {FLAGS.out}")


if __name__ == "__main__":
    app.run(main)

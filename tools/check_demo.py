"""Prints the demo's three accuracies side by side and fails when they miss the demo's bar.

The bar (README "Quick start"): the Keras checkpoint and the SavedModel above 90% val top-1, and the
int8 TFLite model within 2 points of the Keras model. Reads the JSON files `tools.evaluate --json` wrote.
"""

from __future__ import annotations

import json
import sys

from absl import flags

from official.core.errors import BadValueError
from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("keras", None, "Metrics JSON of the Keras checkpoint (tools.evaluate --model_dir).")
    flags.DEFINE_string("saved_model", None, "Metrics JSON of the SavedModel (tools.evaluate --saved_model).")
    flags.DEFINE_string("tflite", None, "Metrics JSON of the int8 TFLite model (tools.evaluate --tflite).")
    flags.DEFINE_float("min_top1", 0.90, "Lowest val top-1 accepted for the Keras model and the SavedModel.")
    flags.DEFINE_float("max_int8_drop", 0.02, "Largest top-1 drop of the int8 TFLite model vs Keras.")
    for name in ("keras", "saved_model", "tflite"):
        flags.mark_flag_as_required(name)


def read_top1(path: str) -> float:
    """The `top1` entry of a tools.evaluate metrics file; a missing file or key names the file."""
    try:
        with open(path, encoding="utf-8") as f:
            metrics = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise BadValueError(f"{path}: cannot read metrics JSON ({err})") from err
    if not isinstance(metrics, dict) or "top1" not in metrics:
        keys = sorted(metrics) if isinstance(metrics, dict) else type(metrics).__name__
        raise BadValueError(f"{path}: no 'top1' field (keys: {keys})")
    return float(metrics["top1"])


def check(keras_top1: float, saved_top1: float, tflite_top1: float, min_top1: float, max_drop: float) -> list[str]:
    """The failed conditions, as sentences (empty when the demo passes)."""
    failures = []
    if not keras_top1 > min_top1:
        failures.append(f"Keras top-1 {keras_top1:.2%} is not above {min_top1:.0%}")
    if not saved_top1 > min_top1:
        failures.append(f"SavedModel top-1 {saved_top1:.2%} is not above {min_top1:.0%}")
    if not keras_top1 - tflite_top1 <= max_drop:
        failures.append(f"int8 TFLite top-1 {tflite_top1:.2%} is more than {max_drop:.0%} below Keras")
    return failures


def main(argv: list[str]) -> int:
    del argv
    tops = [read_top1(p) for p in (FLAGS.keras, FLAGS.saved_model, FLAGS.tflite)]
    print("\nval top-1 on the digits val split")
    for label, top1 in zip(("Keras checkpoint", "SavedModel (serving_default)", "TFLite int8"), tops, strict=True):
        print(f"  {label:<30} {top1:7.2%}")
    failures = check(*tops, FLAGS.min_top1, FLAGS.max_int8_drop)
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    if not failures:
        print("demo passed: Keras and SavedModel above the bar, int8 within the allowed drop")
    return 1 if failures else 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

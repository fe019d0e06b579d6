"""Writes a report folder atomically: everything goes to a temp folder beside OUT, renamed when complete."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np

from research.data_analysis.revise import plots, report
from research.data_analysis.revise.summary import summarize


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_report(measurements: dict, out_dir: str) -> dict:
    """measurements.json, summary.json, report.html and PNG figures in `out_dir`; returns the summary.

    A failure leaves no partial folder; an existing `out_dir` is replaced only after the new one is done.
    """
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise FileExistsError(f"{out_dir}: exists and is not a folder")
    os.makedirs(os.path.dirname(out_dir), exist_ok=True)
    tmp = f"{out_dir}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        # through JSON first, so the summary is computed from exactly what measurements.json holds
        text = json.dumps(measurements, default=_json_default, indent=1)
        measurements = json.loads(text)
        with open(os.path.join(tmp, "measurements.json"), "w", encoding="utf-8") as f:
            f.write(text)
        summary = summarize(measurements)
        with open(os.path.join(tmp, "summary.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1, default=_json_default)
        figures = plots.all_plots(summary, measurements, tmp)
        opts = measurements["options"]
        options = (f"{'legacy' if opts['legacy'] else 'corrected'} box centre and IoU formulas; features: "
                   f"{opts['extractor'] or 'none (separability not measured)'}")
        with open(os.path.join(tmp, "report.html"), "w", encoding="utf-8") as f:
            f.write(report.render(summary, figures, options))
        old = None
        if os.path.isdir(out_dir):
            old = f"{out_dir}.old-{os.getpid()}"
            os.rename(out_dir, old)
        os.rename(tmp, out_dir)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary

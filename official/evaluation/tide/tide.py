"""The `TIDE` class: the same calls as tidecv's, backed by the vectorised runs of this package.

    tide = TIDE()
    tide.evaluate_range(gt, preds, mode=TIDE.BOX)   # AP@[50:95]; errors from the 0.5 run
    tide.summarize()                                 # AP line, Main Errors, Special Error tables
    tide.plot("out/")                                # <run>_<mode>_summary.png
    tide.get_main_errors()   # {run: {"Cls": dAP, "Loc": ..., "Both", "Dupe", "Bkg", "Miss"}}

Differences from tidecv: `add_qualifiers` works (tidecv 1.0.1 raises NotImplementedError), runs made
by `evaluate_range` share one IoU computation, and `plot` needs only matplotlib.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict
from typing import TextIO

from official.evaluation.tide.data import Data
from official.evaluation.tide.errors import MAIN_ERRORS, SPECIAL_ERRORS, TideInputError
from official.evaluation.tide.pairs import Prepared, canonical_mode, prepare
from official.evaluation.tide.qualifiers import Qualifier
from official.evaluation.tide.run import TideRun


def format_table(rows: list[list[str]], title: str | None = None) -> str:
    """A right-aligned text table with '=' borders and a '-' rule under the header (tidecv's look)."""
    n_cols = max(len(r) for r in rows)
    rows = [r + [""] * (n_cols - len(r)) for r in rows]
    widths = [max(len(r[c]) for r in rows) for c in range(n_cols)]
    rule = "--" + "---".join("-" * w for w in widths) + "-"
    lines = []
    if title:
        lines.append(title.rjust((len(rule) - len(title)) // 2 + len(title)))
    lines.append(rule.replace("-", "="))
    for k, row in enumerate(rows):
        lines.append("  " + "   ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) + "  ")
        if k == 0:
            lines.append(rule)
    lines.append(rule.replace("-", "="))
    return "\n".join(lines)


class TIDE:
    """Runs TIDE evaluations and reports them (see the module docstring)."""

    BOX = "bbox"
    MASK = "mask"
    # The same doubles as the literals in tidecv (np.arange would give 0.6000000000000001).
    COCO_THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
    VOL_THRESHOLDS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

    def __init__(self, pos_threshold: float = 0.5, background_threshold: float = 0.1, mode: str = BOX):
        self.pos_thresh = float(pos_threshold)
        self.bg_thresh = float(background_threshold)
        self.mode = canonical_mode(mode)
        self.runs: dict[str, TideRun] = {}
        self.run_thresholds: dict[str, list[TideRun]] = {}
        self.qualifiers: OrderedDict[str, Qualifier] = OrderedDict()

    # --- evaluation ----------------------------------------------------------------------------
    def evaluate(self, gt: Data, preds: Data, pos_threshold: float | None = None,
                 background_threshold: float | None = None, mode: str | None = None, name: str | None = None,
                 use_for_errors: bool = True, _prepared: Prepared | None = None) -> TideRun:
        """One run at one IoU threshold; kept under `name` (default: the predictions' name) for reports."""
        pos = self.pos_thresh if pos_threshold is None else float(pos_threshold)
        bg = self.bg_thresh if background_threshold is None else float(background_threshold)
        mode = self.mode if mode is None else canonical_mode(mode)
        name = preds.name if name is None else name
        if not 0.0 < pos <= 1.0 or not 0.0 <= bg <= 1.0:
            raise TideInputError(f"thresholds must satisfy 0 < pos_threshold <= 1 and 0 <= background_threshold <= 1, got {pos}, {bg}")
        prep = _prepared if _prepared is not None else prepare(gt, preds, mode, drop_ignored_classes=not use_for_errors)
        run = TideRun(prep, pos, bg, name=name, run_errors=use_for_errors)
        if use_for_errors:
            self.runs[name] = run
        return run

    def evaluate_range(self, gt: Data, preds: Data, thresholds: list[float] = COCO_THRESHOLDS,
                       pos_threshold: float | None = None, background_threshold: float | None = None,
                       mode: str | None = None, name: str | None = None) -> list[TideRun]:
        """Runs every threshold (AP@[first-last]); errors come from the run at `pos_threshold`."""
        pos = self.pos_thresh if pos_threshold is None else float(pos_threshold)
        mode = self.mode if mode is None else canonical_mode(mode)
        name = preds.name if name is None else name
        full = prepare(gt, preds, mode)
        filtered = prepare(gt, preds, mode, drop_ignored_classes=True) if _has_image_ignores(gt) else full
        runs = []
        for thresh in thresholds:
            errors = pos == thresh
            runs.append(self.evaluate(gt, preds, thresh, background_threshold, mode, name, use_for_errors=errors,
                                      _prepared=full if errors else filtered))
        self.run_thresholds[name] = runs
        return runs

    def add_qualifiers(self, *quals: Qualifier) -> None:
        """Applies qualifiers (e.g. `AREA`) to every run so far; `summarize` then prints their AP."""
        for q in quals:
            for run_name, run in self.runs.items():
                for r in self.run_thresholds.get(run_name, [run]):
                    r.apply_qualifier(q)
            self.qualifiers[q.name] = q

    # --- results -------------------------------------------------------------------------------
    def get_main_errors(self) -> dict[str, dict[str, float]]:
        return {name: run.main_errors() for name, run in self.runs.items()}

    def get_special_errors(self) -> dict[str, dict[str, float]]:
        return {name: run.special_errors() for name, run in self.runs.items()}

    def get_all_errors(self) -> dict[str, dict[str, dict[str, float]]]:
        return {"main": self.get_main_errors(), "special": self.get_special_errors()}

    def summary_text(self) -> str:
        """The text `summarize` prints."""
        out: list[str] = []
        for run_name, run in self.runs.items():
            out += [f"-- {run_name} --", ""]
            thresh_runs = self.run_thresholds.get(run_name)
            if thresh_runs:
                aps = [r.ap for r in thresh_runs]
                title = f"{run.mode} AP @ [{int(thresh_runs[0].pos_thresh * 100):d}-{int(thresh_runs[-1].pos_thresh * 100):d}]"
                out.append(f"{title}: {sum(aps) / len(aps):.2f}")
                out.append(format_table([["Thresh"] + [str(int(r.pos_thresh * 100)) for r in thresh_runs],
                                         ["  AP  "] + [f"{a:6.2f}" for a in aps]], title=title))
                q_ap = {q: [r.qualifiers[q] for r in thresh_runs if q in r.qualifiers] for q in self.qualifiers}
                q_ap = {q: (sum(v) / len(v) if v else 0.0) for q, v in q_ap.items()}
            else:
                title = f"{run.mode} AP @ {int(run.pos_thresh * 100):d}"
                out.append(f"{title}: {run.ap:.2f}")
                q_ap = {q: run.qualifiers.get(q, 0.0) for q in self.qualifiers}
            if q_ap:
                out += ["", format_table([["Name"] + list(q_ap), [" AP "] + [f"{v:6.2f}" for v in q_ap.values()]],
                                         title=f"Qualifiers {title}")]
            main, special = run.main_errors(), run.special_errors()
            out += ["", format_table([["Type"] + list(MAIN_ERRORS), [" dAP"] + [f"{main[e]:6.2f}" for e in MAIN_ERRORS]],
                                     title="Main Errors")]
            out += ["", format_table([["Type"] + list(SPECIAL_ERRORS),
                                      [" dAP"] + [f"{special[e]:6.2f}" for e in SPECIAL_ERRORS]], title="Special Error"), ""]
        return "\n".join(out)

    def summarize(self, file: TextIO | None = None) -> None:
        """Prints the AP line and the Main Errors / Special Error tables of every run."""
        print(self.summary_text(), file=file or sys.stdout)

    def plot(self, out_dir: str | None = None) -> list[str]:
        """Writes `<run>_<mode>_summary.png` per run into `out_dir` (created if needed); returns the paths."""
        from official.evaluation.tide.plot import write_tide_plot

        out_dir = out_dir or "."
        os.makedirs(out_dir, exist_ok=True)
        paths = []
        for run_name, run in self.runs.items():
            path = os.path.join(out_dir, f"{run_name}_{run.mode}_summary.png")
            write_tide_plot(run_result(run), path, title=f"{run_name} ({run.mode})")
            paths.append(path)
        return paths


def _has_image_ignores(gt: Data) -> bool:
    """Whether some ignore region covers a whole image for a named class (these change AP-only runs)."""
    a = gt.arrays()
    return any(a.ignore[i] and not a.has_box[i] and a.mask[i] is None and a.cls[i] is not None
               for i in range(len(gt)))


def run_result(run: TideRun) -> dict:
    """The JSON form of a run: ap50 (AP at the run's threshold), main and special dAP, counts."""
    return {
        "ap50": float(run.ap),
        "main": {k: float(v) for k, v in run.main_errors().items()},
        "special": {k: float(v) for k, v in run.special_errors().items()},
        "counts": run.counts(),
    }

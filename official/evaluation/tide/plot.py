"""One PNG that shows where the AP went: share of each main error, their dAP, and the special errors.

Left: pie of the main errors' share of the summed dAP; middle: dAP per main error (fixed axis of at
least 10 points, as tidecv, so plots of different models compare by eye); right: FalsePos / FalseNeg
dAP (axis of at least 25 points). Written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import math
import os
import tempfile
from typing import Any

from official.evaluation.tide.errors import MAIN_ERRORS, SPECIAL_ERRORS

COLORS = {
    "Cls": "#d65f5f", "Loc": "#ee854a", "Both": "#956cb4", "Dupe": "#8c613c", "Bkg": "#4878d0", "Miss": "#6acc64",
    "FalsePos": "#82c6e2", "FalseNeg": "#d5bb67",
}


def _axis_max(values: list[float], floor: float, step: float = 5.0) -> float:
    top = max(values + [0.0]) * 1.12  # headroom for the value labels
    return floor if top <= floor else math.ceil(top / step) * step


def write_tide_plot(result: dict[str, Any], path: str, title: str | None = None) -> None:
    """Draws `result` (the JSON form: ap50, main, special) into the PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    main = [float(result["main"][e]) for e in MAIN_ERRORS]
    special = [float(result["special"][e]) for e in SPECIAL_ERRORS]
    fig, (ax_pie, ax_main, ax_spec) = plt.subplots(
        1, 3, figsize=(13, 4.6), gridspec_kw={"width_ratios": [1.1, 1.4, 0.7]})
    heading = f"AP = {float(result['ap50']):.2f}"
    fig.suptitle(f"{title}  -  {heading}" if title else f"TIDE error breakdown  -  {heading}", fontsize=14, weight="bold")

    total = sum(main)
    shown = [(e, v) for e, v in zip(MAIN_ERRORS, main, strict=True) if v > 0]
    if total > 0:
        wedges, _ = ax_pie.pie([v for _, v in shown], colors=[COLORS[e] for e, _ in shown], startangle=90,
                               counterclock=False, wedgeprops={"linewidth": 1.5, "edgecolor": "white"})
        for wedge, (e, v) in zip(wedges, shown, strict=True):
            if v / total >= 0.08:  # label only wedges big enough to hold the text
                mid = math.radians((wedge.theta1 + wedge.theta2) / 2)
                ax_pie.text(0.62 * math.cos(mid), 0.62 * math.sin(mid), f"{e}\n{v / total:.0%}", ha="center",
                            va="center", fontsize=11, weight="bold", color="white")
        ax_pie.set_title("share of main-error dAP", fontsize=11)
        ax_pie.axis("equal")
    else:
        ax_pie.text(0.5, 0.5, "no AP lost to\nmain errors", ha="center", va="center", fontsize=12,
                    transform=ax_pie.transAxes)
        ax_pie.set_axis_off()

    y = list(range(len(MAIN_ERRORS)))[::-1]
    ax_main.barh(y, main, color=[COLORS[e] for e in MAIN_ERRORS])
    ax_main.set_yticks(y, MAIN_ERRORS, fontsize=11)
    xmax = _axis_max(main, 10.0)
    ax_main.set_xlim(0, xmax)
    for yy, v in zip(y, main, strict=True):
        ax_main.text(v + xmax * 0.01, yy, f"{v:.2f}", va="center", fontsize=10)
    ax_main.set_xlabel("dAP (AP points gained by fixing only this error)")
    ax_main.set_title("main errors", fontsize=11)
    ax_main.spines[["top", "right"]].set_visible(False)

    ax_spec.bar([0, 1], special, color=[COLORS[e] for e in SPECIAL_ERRORS], width=0.6)
    ax_spec.set_xticks([0, 1], ["FalsePos", "FalseNeg"], fontsize=10)
    ymax = _axis_max(special, 25.0)
    ax_spec.set_ylim(0, ymax)
    for xx, v in enumerate(special):
        ax_spec.text(xx, v + ymax * 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=10)
    ax_spec.set_ylabel("dAP")
    ax_spec.set_title("special errors", fontsize=11)
    ax_spec.spines[["top", "right"]].set_visible(False)

    fig.tight_layout()
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tide-", suffix=".png", dir=directory)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, format="png")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)

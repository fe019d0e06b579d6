"""Age-estimation metrics of the face-aging and age-estimation literature (numpy; no TF).

- MAE: mean |predicted age - true age| in years.
- CS(t), the cumulative score: the share of examples whose absolute error is at most t years (CS(5) is the
  figure tables quote; "at most", i.e. error <= t, as in Geng et al.'s definition).
- `per_bin_mae`: MAE per true-age bin, so the long tail of rare ages shows (empty bins are NaN).
"""

from __future__ import annotations

import numpy as np


def _pair(predicted, target) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(predicted, np.float64).reshape(-1)
    t = np.asarray(target, np.float64).reshape(-1)
    if p.shape != t.shape:
        raise ValueError(f"age metrics: {p.size} predictions for {t.size} targets")
    if p.size == 0:
        raise ValueError("age metrics: no examples")
    return p, t


def mean_absolute_error(predicted, target) -> float:
    p, t = _pair(predicted, target)
    return float(np.mean(np.abs(p - t)))


def cumulative_score(predicted, target, threshold: float = 5.0) -> float:
    """Share of examples with |error| <= threshold years."""
    p, t = _pair(predicted, target)
    return float(np.mean(np.abs(p - t) <= threshold))


def per_bin_mae(predicted, target, edges=(0, 20, 40, 60, 80, 200)) -> dict[str, float]:
    """{"lo-hi": MAE of the examples with lo <= true age < hi}."""
    p, t = _pair(predicted, target)
    out = {}
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        keep = (t >= lo) & (t < hi)
        out[f"{lo}-{hi}"] = float(np.mean(np.abs(p[keep] - t[keep]))) if keep.any() else float("nan")
    return out


def age_metrics(predicted, target, threshold: float = 5.0) -> dict[str, float]:
    """{"mae", "cs5"} (the key names the threshold)."""
    return {"mae": mean_absolute_error(predicted, target),
            f"cs{threshold:g}": cumulative_score(predicted, target, threshold)}

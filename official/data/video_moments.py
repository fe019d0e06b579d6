"""Trimmed action moments as a Kinetics-style CSV plus per-step feature CSVs (AherNet's moment source).

On disk: `MOMENTS.csv` with the Kinetics header `label,youtube_id,time_start,time_end,split` (one row per
clip) and `FEATURE_DIR/<youtube_id>.csv` in official/data/activitynet.py's feature format. A row with an
unknown label, a missing or wrong-width feature file is logged, skipped and counted per reason; a missing
CSV or a header without those columns is an error naming the file and the field.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field

import numpy as np
from absl import logging

from official.core.errors import PathNotFoundError
from official.data import activitynet

COLUMNS = ("label", "youtube_id")
SKIP_REASONS = ("unknown_label", "missing_features", "bad_features")


@dataclass
class Moments:
    """Feature paths and class ids of the usable moments; skipped ids per reason."""

    paths: list[str]
    labels: np.ndarray
    classes: list[str]
    skipped_ids: dict[str, list[str]] = field(default_factory=dict)

    @property
    def skipped(self) -> dict[str, int]:
        return {r: len(v) for r, v in self.skipped_ids.items()}


def load_moments(csv_path: str, feature_dir: str, classes: list[str], feature_dim: int) -> Moments:
    """The moments whose label is in `classes` (ids = positions in it) and whose features are readable."""
    if not os.path.isfile(csv_path):
        raise PathNotFoundError(f"{csv_path}: no such file")
    if not os.path.isdir(feature_dir):
        raise PathNotFoundError(f"{feature_dir}: no such feature folder")
    index = {c: i for i, c in enumerate(classes)}
    skipped: dict[str, list[str]] = {r: [] for r in SKIP_REASONS}
    paths, labels = [], []
    with open(csv_path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise activitynet.ActivityNetFormatError(f"{csv_path}: header lacks column '{missing[0]}'")
        for row in reader:
            vid = row["youtube_id"]
            path = os.path.join(feature_dir, f"{vid}.csv")
            reason = ("unknown_label" if row["label"] not in index else "missing_features" if not os.path.isfile(path)
                      else "bad_features" if activitynet.feature_header_width(path) != feature_dim else "")
            if reason:
                skipped[reason].append(vid)
                if len(skipped[reason]) <= 20:
                    logging.warning("moment %s skipped (%s)", vid, reason)
                continue
            paths.append(path)
            labels.append(index[row["label"]])
    total = sum(len(v) for v in skipped.values())
    if total:
        logging.warning("%s: skipped %d moments: %s", csv_path, total,
                        ", ".join(f"{r}={len(v)}" for r, v in skipped.items() if v))
    if not paths:
        raise activitynet.ActivityNetFormatError(f"{csv_path}: no usable moments (field 'label' vs the classes, features)")
    return Moments(paths, np.asarray(labels, np.int32), list(classes), skipped)


def write_moments_csv(path: str, rows: list[tuple[str, str]]) -> None:
    """(label, youtube_id) rows with the Kinetics header (time_start 0, time_end 10, split train)."""
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label", "youtube_id", "time_start", "time_end", "split"])
        for label, vid in rows:
            w.writerow([label, vid, 0, 10, "train"])
    os.replace(tmp, path)

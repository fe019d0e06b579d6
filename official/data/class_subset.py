"""Keeping a subset of a dataset's classes and numbering them in list order (`data.classes`).

The open-set protocol (Neal et al. 2018; ARPL's `osr_dataloader.py`) trains on K "known" classes whose
stored labels are remapped to 0..K-1 in the order the split lists them, and tests on the "unknown"
rest. Every classification reader lists its examples (arrays or file paths) with their labels before a
`tf.data` pipeline exists, so the subset is taken there and the example count stays exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from official.data.imagefolder import DatasetError


def class_subset(labels, classes: Sequence[int], num_classes: int | None, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the examples whose label is in `classes`, their labels renumbered to list positions).

    `num_classes` (the dataset's class count, when the reader knows it) bounds the listed labels;
    `where` names the dataset in errors.
    """
    wanted = [int(c) for c in classes]
    if len(set(wanted)) != len(wanted):
        raise DatasetError(f"{where}: data.classes: {wanted} lists a class twice")
    if min(wanted) < 0 or (num_classes is not None and max(wanted) >= num_classes):
        raise DatasetError(f"{where}: data.classes: {wanted} has a label outside 0..{(num_classes or 1) - 1}")
    labels = np.asarray(labels, np.int64).reshape(-1)
    table = np.full(max(max(wanted), int(labels.max(initial=0))) + 1, -1, np.int64)
    table[wanted] = np.arange(len(wanted))
    mapped = table[labels]
    keep = np.flatnonzero(mapped >= 0)
    return keep, mapped[keep]


def subset_names(names: Sequence[str] | None, classes: Sequence[int]) -> list[str]:
    """The class names of the kept classes, in their new order ([] when the reader has none)."""
    return [names[int(c)] for c in classes] if names else []

"""Qualifiers restrict TIDE to a subset of objects, e.g. small / medium / large boxes.

A qualifier tests boxes ([x, y, w, h], as tidecv, which reads the `bbox` of every annotation even in
mask mode; a mask-only prediction uses the box around its mask). It is applied to a run in two ways:
- `TideRun.apply_qualifier(q)`: AP on the kept objects (a true positive stays only if both it and its
  ground truth qualify; ground truth that does not qualify leaves the positives count);
- `TideRun.fix_main_errors(qual=q)`: dAP of fixing only the errors whose object qualifies (the GT for
  Cls, Loc and Miss, the prediction for Dupe, Bkg and Both), against the full AP.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class Qualifier:
    """A named, vectorised test: `test(boxes (n, 4) [x, y, w, h]) -> (n,) bool`."""

    name: str
    test: Callable[[np.ndarray], np.ndarray]

    def __call__(self, boxes: np.ndarray) -> np.ndarray:
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        return np.asarray(self.test(boxes), dtype=bool).reshape(len(boxes))


def _area(b: np.ndarray) -> np.ndarray:
    return b[:, 2] * b[:, 3]


def _aspect(b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return b[:, 2] / b[:, 3]


# COCO area ranges (same boundaries as tidecv's AREA: <= 32^2, (32^2, 96^2], > 96^2).
AREA: tuple[Qualifier, ...] = (
    Qualifier("Small", lambda b: _area(b) <= 32**2),
    Qualifier("Medium", lambda b: (32**2 < _area(b)) & (_area(b) <= 96**2)),
    Qualifier("Large", lambda b: 96**2 < _area(b)),
)

ASPECT_RATIO: tuple[Qualifier, ...] = (
    Qualifier("Tall", lambda b: _aspect(b) <= 0.75),
    Qualifier("Square", lambda b: (0.75 < _aspect(b)) & (_aspect(b) <= 1.33)),
    Qualifier("Wide", lambda b: 1.33 < _aspect(b)),
)

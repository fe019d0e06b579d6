"""Graphic layouts as padded arrays and tf.data: the shared end of the Magazine and RICO readers.

A layout is a list of boxes (xc, yc, w, h) relative to the canvas with integer labels 1..C (0 stays
free for the canvas node of relation graphs). `LayoutSet` collects them; `padded` packs them into
(M, N_max, 4) / (M, N_max) arrays with a mask; `split_indices` is const_layout's 85/5/10 split (seed 0).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from official.core.errors import UserError

log = logging.getLogger(__name__)


class LayoutFormatError(UserError, ValueError):
    """No usable layout in a dataset; the message names a file and the field that failed."""


@dataclasses.dataclass
class LayoutSet:
    boxes: list  # per layout (n, 4) float32 xywh in [0, 1]
    labels: list  # per layout (n,) int32 in 1..len(label_names)
    names: list  # per layout the source file name
    label_names: tuple
    skipped: dict = dataclasses.field(default_factory=dict)  # reason -> count

    def __len__(self) -> int:
        return len(self.boxes)

    def padded(self, max_elements: int) -> dict:
        """{'boxes' (M, N, 4), 'labels' (M, N), 'mask' (M, N)}; longer layouts raise (filter first)."""
        m = len(self.boxes)
        boxes = np.zeros((m, max_elements, 4), np.float32)
        labels = np.zeros((m, max_elements), np.int32)
        for i, (b, lab) in enumerate(zip(self.boxes, self.labels, strict=True)):
            if len(lab) > max_elements:
                raise LayoutFormatError(f"{self.names[i]}: {len(lab)} elements > max_elements={max_elements}")
            boxes[i, : len(lab)], labels[i, : len(lab)] = b, lab
        mask = (np.arange(max_elements)[None] < np.array([len(lab) for lab in self.labels])[:, None]).astype(np.float32)
        return {"boxes": boxes, "labels": labels, "mask": mask}


def collect(records, label_names, source: str) -> LayoutSet:
    """Builds a LayoutSet from (name, boxes, labels) or (name, None, reason) records; logs the skips.

    Raises LayoutFormatError naming the first failure when nothing was usable.
    """
    out = LayoutSet([], [], [], tuple(label_names))
    first_error = None
    for name, boxes, labels in records:
        if boxes is None:
            out.skipped[labels] = out.skipped.get(labels, 0) + 1
            first_error = first_error or f"{name}: {labels}"
            continue
        out.boxes.append(np.asarray(boxes, np.float32).reshape(-1, 4))
        out.labels.append(np.asarray(labels, np.int32))
        out.names.append(name)
    if out.skipped:
        log.warning("%s: kept %d layouts, skipped %s", source, len(out), out.skipped)
    if not out.boxes:
        raise LayoutFormatError(f"{source}: no usable layout ({first_error or 'no files'})")
    return out


def split_indices(count: int, seed: int = 0, fractions=(0.85, 0.05)) -> dict:
    """Random train/val/test index split (const_layout: 85 / 5 / 10 %, seed 0)."""
    order = np.random.default_rng(seed).permutation(count)
    a = int(round(count * fractions[0]))
    b = a + int(round(count * fractions[1]))
    return {"train": order[:a], "val": order[a:b], "test": order[b:]}


def xyxy_to_xywh(x1, y1, x2, y2, width, height) -> list:
    """Pixel corners -> canvas-relative centre/size."""
    return [(x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height]

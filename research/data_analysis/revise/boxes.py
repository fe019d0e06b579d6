"""Box arithmetic in REVISE's layout: [x0, x1, y0, y1] normalised to [0, 1] (x-x-y-y, not COCO's x-y-w-h).

The official tool has two quirks, kept here behind `legacy=True` so its numbers can be reproduced:
- the box centre is computed as [x0 + x1/2, y0 + y1/2] (x1 taken as a width); the correct centre is
  ((x0 + x1)/2, (y0 + y1)/2);
- the overlap IoU is a pixel-space formula (+1 on every side) applied to the normalised x-x-y-y box as if
  it were [x0, y0, x1, y1]; the correct IoU is the plain area ratio on the right coordinates.
"""

from __future__ import annotations

import numpy as np

IMAGE_CENTRE = np.array([0.5, 0.5])


def coco_to_revise(bbox: list[float], width: float, height: float) -> list[float]:
    """COCO [x, y, w, h] pixels on a width x height image -> [x/W, (x+w)/W, y/H, (y+h)/H]."""
    x, y, w, h = (float(v) for v in bbox)
    return [x / width, (x + w) / width, y / height, (y + h) / height]


def area(box) -> float:
    """(x1 - x0) * (y1 - y0): the box's fraction of the image area."""
    return (box[1] - box[0]) * (box[3] - box[2])


def centre(box, legacy: bool = False) -> np.ndarray:
    """The box centre (cx, cy); `legacy` reproduces the official [x0 + x1/2, y0 + y1/2]."""
    if legacy:
        return np.array([box[0] + box[1] / 2.0, box[2] + box[3] / 2.0])
    return np.array([(box[0] + box[1]) / 2.0, (box[2] + box[3]) / 2.0])


def centre_distance(box, legacy: bool = False) -> float:
    """Euclidean distance of the box centre from the image centre (0.5, 0.5), normalised units."""
    return float(np.linalg.norm(centre(box, legacy) - IMAGE_CENTRE))


def iou(a, b, legacy: bool = False) -> float:
    """Intersection over union of two [x0, x1, y0, y1] boxes (see the module docstring for `legacy`)."""
    if legacy:
        # the official formula, fed the x-x-y-y box as if it were x-y-x-y, with the +1 pixel convention
        ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
        iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
        inter = ix * iy
        area_a = (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
        area_b = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
        return inter / float(area_a + area_b - inter)
    ix = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[2], b[2]))
    inter = ix * iy
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0

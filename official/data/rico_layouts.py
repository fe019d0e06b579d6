"""RICO semantic-annotation reader (const_layout's data/rico.py filtering): one JSON view tree per screen.

Format: ROOT/semantic_annotations/<id>.json, a node tree whose nodes carry `bounds` [x1, y1, x2, y2]
(pixels) and optional `componentLabel`, children under `children`. The root's bounds give the canvas.
Kept: portrait screens whose root starts at (0, 0); nodes labelled with one of 13 labels (ids 1..13)
whose boxes lie inside the canvas with positive size; screens with 1..max_elements (9) such nodes.
"""

from __future__ import annotations

import json
import os

from official.core.errors import PathNotFoundError
from official.data.layouts import LayoutSet, collect, xyxy_to_xywh

LABELS = ("Toolbar", "Image", "Text", "Icon", "Text Button", "Input", "List Item", "Advertisement",
          "Pager Indicator", "Web View", "Background Image", "Drawer", "Modal")
ANNOTATIONS = "semantic_annotations"


def _walk(node):
    """Depth-first over all descendants (the root is the screen itself and is not an element)."""
    for child in node.get("children", []) or []:
        if isinstance(child, dict):
            yield child
            yield from _walk(child)


def _parse_screen(path: str, max_elements: int):
    name = os.path.basename(path)
    try:
        with open(path) as f:
            tree = json.load(f)
        x0, y0, width, height = (float(v) for v in tree["bounds"])
    except (OSError, json.JSONDecodeError):
        return name, None, "unparseable JSON"
    except (KeyError, TypeError, ValueError):
        return name, None, "missing or bad field bounds"
    if x0 != 0 or y0 != 0 or height < width:
        return name, None, "landscape or offset screen"
    boxes, labels = [], []
    for node in _walk(tree):
        label = node.get("componentLabel")
        if label not in LABELS:
            continue
        try:
            x1, y1, x2, y2 = (float(v) for v in node["bounds"])
        except (KeyError, TypeError, ValueError):
            return name, None, "missing or bad field bounds"
        if x1 < 0 or y1 < 0 or x2 > width or y2 > height or x2 <= x1 or y2 <= y1:
            continue  # out-of-canvas or empty box: dropped, as const_layout does
        boxes.append(xyxy_to_xywh(x1, y1, x2, y2, width, height))
        labels.append(LABELS.index(label) + 1)
    if not boxes or len(boxes) > max_elements:
        return name, None, f"0 or more than {max_elements} elements"
    return name, boxes, labels


def load_rico(root: str, max_elements: int = 9) -> LayoutSet:
    """Reads every ROOT/semantic_annotations/*.json (sorted) with const_layout's filters."""
    folder = os.path.join(root, ANNOTATIONS)
    if not os.path.isdir(folder):
        raise PathNotFoundError(f"{folder}: RICO folder not found (expected ROOT/{ANNOTATIONS})")
    files = sorted(f for f in os.listdir(folder) if f.endswith(".json"))
    return collect((_parse_screen(os.path.join(folder, f), max_elements) for f in files), LABELS, folder)

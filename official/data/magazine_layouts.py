"""Magazine layout dataset (Zheng et al., SIGGRAPH 2019) reader: one XML annotation per page.

Format (as const_layout's data/magazine.py reads it): ROOT/layoutdata/annotations/<name>.xml with
`size/width`, `size/height` and `layout/element` nodes carrying `label` and space-separated pixel lists
`polygon_x`, `polygon_y`; an element's box is the polygon's min/max, normalised by the page size.
Labels kept (ids 1..5): text, image, headline, text-over-image, headline-over-image; other labels
(background) are dropped. Unparseable pages and bad elements are counted and skipped with a summary.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from official.core.errors import PathNotFoundError
from official.data.layouts import LayoutSet, collect, xyxy_to_xywh

LABELS = ("text", "image", "headline", "text-over-image", "headline-over-image")
ANNOTATIONS = os.path.join("layoutdata", "annotations")


def _parse_page(path: str):
    name = os.path.basename(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return name, None, "unparseable XML"
    try:
        width = float(root.find("size/width").text)
        height = float(root.find("size/height").text)
    except (AttributeError, TypeError, ValueError):
        return name, None, "missing or bad field size/width or size/height"
    if width <= 0 or height <= 0:
        return name, None, "non-positive size/width or size/height"
    boxes, labels = [], []
    for element in root.findall("layout/element"):
        label = element.get("label")
        if label not in LABELS:
            continue
        try:
            px = [float(v) for v in element.get("polygon_x").split()]
            py = [float(v) for v in element.get("polygon_y").split()]
        except (AttributeError, ValueError):
            return name, None, "missing or bad field polygon_x/polygon_y"
        if not px or len(px) != len(py):
            return name, None, "polygon_x and polygon_y differ in length"
        x1, x2, y1, y2 = min(px), max(px), min(py), max(py)
        if x2 <= x1 or y2 <= y1:
            return name, None, "degenerate polygon"
        boxes.append(xyxy_to_xywh(x1, y1, x2, y2, width, height))
        labels.append(LABELS.index(label) + 1)
    if not boxes:
        return name, None, "no element with a kept label"
    return name, boxes, labels


def load_magazine(root: str, max_elements: int | None = None) -> LayoutSet:
    """Reads every ROOT/layoutdata/annotations/*.xml (sorted); max_elements drops longer pages."""
    folder = os.path.join(root, ANNOTATIONS)
    if not os.path.isdir(folder):
        raise PathNotFoundError(f"{folder}: Magazine annotation folder not found (expected ROOT/{ANNOTATIONS})")
    files = sorted(f for f in os.listdir(folder) if f.endswith(".xml"))

    def records():
        for f in files:
            name, boxes, labels = _parse_page(os.path.join(folder, f))
            if boxes is not None and max_elements is not None and len(labels) > max_elements:
                yield name, None, f"more than {max_elements} elements"
            else:
                yield name, boxes, labels

    return collect(records(), LABELS, folder)

"""User constraints for NDN inference: a JSON file -> padded relation matrices, and a layout drawing.

File format (tools.layout --constraints):
  {"elements": ["headline", "image", "text"],            # label names of the experiment's dataset
   "relations": [{"subject": "canvas", "object": 0, "location": "top"},
                 {"subject": 0, "object": 1, "location": "bottom"},   # element 1 lies below element 0
                 {"subject": 1, "object": 2, "size": "larger"}],      # element 2 is larger than element 1
   "samples": 4, "seed": 0}
A relation says where / how large `object` is relative to `subject` (official/evaluation/layout_relations.py
vocabularies: left, top, right, bottom, center; smaller, equal, larger). Contradictory vertical
constraints (a cycle in the "is above" graph, e.g. a above b and b above a) are rejected.
"""

from __future__ import annotations

import json

import numpy as np

from official.core.errors import UserError
from official.evaluation.layout_relations import LOC_INVERSE, LOC_NAMES, SIZE_INVERSE, SIZE_NAMES


class ConstraintError(UserError, ValueError):
    """A constraints file that cannot be used; the message names the file and the field."""


def _node(value, count: int, where: str) -> int:
    if value == "canvas":
        return 0
    if isinstance(value, int) and 0 <= value < count:
        return value + 1
    raise ConstraintError(f"{where}: must be 'canvas' or an element index 0..{count - 1}, got {value!r}")


def above_graph_has_cycle(edges: list[tuple[int, int]]) -> bool:
    """True when the directed 'a is above b' edges contain a cycle (iterative DFS colouring)."""
    graph: dict[int, list[int]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
    state: dict[int, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(graph.get(start, ())))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                return True
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(graph.get(child, ()))))
    return False


def parse_constraints(spec: dict, label_names, max_elements: int, source: str = "constraints") -> dict:
    """{'categories' (N,), 'mask' (N,), 'loc_relations', 'size_relations' (N+1, N+1), 'samples', 'seed'}."""
    elements = spec.get("elements")
    if not isinstance(elements, list) or not elements:
        raise ConstraintError(f"{source}: field 'elements' must be a non-empty list of label names")
    if len(elements) > max_elements:
        raise ConstraintError(f"{source}: field 'elements' has {len(elements)} > max_elements={max_elements}")
    n = max_elements
    cats = np.zeros(n, np.int32)
    for i, name in enumerate(elements):
        if name not in label_names:
            raise ConstraintError(f"{source}: elements[{i}] {name!r} is not one of {list(label_names)}")
        cats[i] = list(label_names).index(name) + 1
    loc = np.zeros((n + 1, n + 1), np.int32)
    size = np.zeros((n + 1, n + 1), np.int32)
    above = []
    for k, rel in enumerate(spec.get("relations", [])):
        where = f"{source}: relations[{k}]"
        a = _node(rel.get("subject"), len(elements), where + ".subject")
        b = _node(rel.get("object"), len(elements), where + ".object")
        if a == b:
            raise ConstraintError(f"{where}: subject and object are the same node")
        if "location" in rel:
            if rel["location"] not in LOC_NAMES[1:]:
                raise ConstraintError(f"{where}.location: {rel['location']!r} is not one of {LOC_NAMES[1:]}")
            r = LOC_NAMES.index(rel["location"])
            loc[a, b], loc[b, a] = r, LOC_INVERSE[r]
            if a and b and rel["location"] in ("top", "bottom"):
                above.append((b, a) if rel["location"] == "top" else (a, b))
        if "size" in rel:
            if rel["size"] not in SIZE_NAMES[1:]:
                raise ConstraintError(f"{where}.size: {rel['size']!r} is not one of {SIZE_NAMES[1:]}")
            r = SIZE_NAMES.index(rel["size"])
            size[a, b], size[b, a] = r, SIZE_INVERSE[r]
    if above_graph_has_cycle(above):
        raise ConstraintError(f"{source}: field 'relations' is contradictory (a cycle of 'above' relations)")
    mask = (np.arange(n) < len(elements)).astype(np.float32)
    return {"categories": cats, "mask": mask, "loc_relations": loc, "size_relations": size,
            "samples": int(spec.get("samples", 1)), "seed": int(spec.get("seed", 0))}


def load_constraints(path: str, label_names, max_elements: int) -> dict:
    try:
        with open(path) as f:
            spec = json.load(f)
    except OSError as err:
        raise ConstraintError(f"{path}: cannot read ({err.strerror})") from err
    except json.JSONDecodeError as err:
        raise ConstraintError(f"{path}: not JSON ({err.msg} at line {err.lineno})") from err
    return parse_constraints(spec, label_names, max_elements, path)


PALETTE = ((230, 80, 60), (60, 130, 220), (60, 170, 90), (240, 170, 40), (150, 90, 200), (40, 180, 190),
           (200, 60, 150), (120, 120, 120))


def draw_layouts(layouts, label_names, width: int = 150, height: int = 200, gap: int = 8):
    """PIL image of layouts [(boxes (n, 4) xywh, labels (n,) 1-based)] side by side, one colour per label."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (len(layouts) * (width + gap) + gap, height + 2 * gap), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    for k, (boxes, labels) in enumerate(layouts):
        x0, y0 = gap + k * (width + gap), gap
        draw.rectangle([x0, y0, x0 + width - 1, y0 + height - 1], fill=(255, 255, 255), outline=(0, 0, 0))
        for (xc, yc, w, h), label in zip(boxes, labels, strict=True):
            colour = PALETTE[(int(label) - 1) % len(PALETTE)]
            box = [x0 + (xc - w / 2) * width, y0 + (yc - h / 2) * height,
                   x0 + (xc + w / 2) * width, y0 + (yc + h / 2) * height]
            draw.rectangle(box, outline=colour, width=2)
            draw.text((box[0] + 3, box[1] + 2), label_names[int(label) - 1][:10], fill=colour)
    return image

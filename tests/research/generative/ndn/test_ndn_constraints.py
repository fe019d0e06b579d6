"""Constraint files for tools.layout: parsing into relation matrices, one-line errors, contradiction check
(vs networkx's cycle finder), and the drawing."""

import json

import numpy as np
import pytest

from official.data.magazine_layouts import LABELS
from official.evaluation import layout_relations as R
from research.generative.ndn.constraints import (
    ConstraintError,
    above_graph_has_cycle,
    draw_layouts,
    load_constraints,
    parse_constraints,
)

SPEC = {"elements": ["headline", "image", "text"],
        "relations": [{"subject": "canvas", "object": 0, "location": "top"},
                      {"subject": 0, "object": 1, "location": "bottom"},
                      {"subject": 1, "object": 2, "size": "smaller"}], "samples": 3}


def test_parse_fills_both_directions():
    c = parse_constraints(SPEC, LABELS, 5)
    assert c["categories"].tolist() == [3, 2, 1, 0, 0] and c["mask"].tolist() == [1, 1, 1, 0, 0]
    assert c["loc_relations"][0, 1] == R.LOC_TOP and c["loc_relations"][1, 0] == R.LOC_BOTTOM
    assert c["loc_relations"][1, 2] == R.LOC_BOTTOM and c["loc_relations"][2, 1] == R.LOC_TOP
    assert c["size_relations"][2, 3] == R.SIZE_SMALLER and c["size_relations"][3, 2] == R.SIZE_LARGER
    assert (c["loc_relations"] > 0).sum() == 4 and (c["size_relations"] > 0).sum() == 2 and c["samples"] == 3


@pytest.mark.parametrize("change, message", [
    ({"elements": ["headline", "poster"]}, r"elements\[1\] 'poster'"),
    ({"relations": [{"subject": 0, "object": 7, "location": "top"}]}, r"relations\[0\].object"),
    ({"relations": [{"subject": 0, "object": 1, "location": "above"}]}, r"relations\[0\].location"),
    ({"relations": [{"subject": 0, "object": 1, "location": "top"}, {"subject": 1, "object": 2, "location": "top"},
                    {"subject": 2, "object": 0, "location": "top"}]}, "contradictory"),
])
def test_errors_name_the_field(tmp_path, change, message):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({**SPEC, **change}))
    with pytest.raises(ConstraintError, match=message):
        load_constraints(str(path), LABELS, 5)


def test_cycle_check_matches_networkx():
    import networkx as nx  # required (pyproject dev extra): a missing install fails, never skips
    rng = np.random.default_rng(0)
    for _ in range(200):
        edges = [tuple(int(v) for v in rng.integers(0, 6, 2)) for _ in range(rng.integers(1, 8))]
        edges = [(a, b) for a, b in edges if a != b]
        g = nx.DiGraph(edges)
        assert above_graph_has_cycle(edges) == (not nx.is_directed_acyclic_graph(g)), edges


def test_drawing_colours_each_box():
    image = draw_layouts([(np.array([[0.5, 0.25, 0.5, 0.2]]), np.array([1]))], LABELS, 100, 100, gap=0)
    a = np.asarray(image)
    assert a.shape == (100, 100, 3)
    assert tuple(a[15, 50]) == (230, 80, 60)  # top edge of the box (y = 0.15) in label 1's colour
    assert tuple(a[50, 50]) == (255, 255, 255)

"""Magazine XML and RICO JSON readers on hand-written fixtures in the real formats."""

import json

import numpy as np
import pytest

from official.core.errors import PathNotFoundError
from official.data.layouts import LayoutFormatError, split_indices
from official.data.magazine_layouts import load_magazine
from official.data.rico_layouts import load_rico

PAGE = """<?xml version="1.0"?>
<annotation><filename>{name}.png</filename><size><width>200</width><height>400</height></size>
<layout>
<element label="background" polygon_x="0 200 200 0" polygon_y="0 0 400 400"/>
<element label="headline" polygon_x="20 180 180 20" polygon_y="10 10 50 50"/>
<element label="image" polygon_x="0 100 100 50 0" polygon_y="100 100 300 320 300"/>
<element label="text-over-image" polygon_x="10 90 90 10" polygon_y="200 200 240 240"/>
</layout></annotation>"""


def _magazine(tmp_path, pages):
    folder = tmp_path / "layoutdata" / "annotations"
    folder.mkdir(parents=True)
    for name, text in pages.items():
        (folder / f"{name}.xml").write_text(text)
    return str(tmp_path)


def test_magazine_boxes_labels_and_skips(tmp_path, caplog):
    root = _magazine(tmp_path, {
        "a": PAGE.format(name="a"),
        "b_broken": "<annotation><size>",
        "c_nosize": "<annotation><layout><element label='text' polygon_x='1 2' polygon_y='1 2'/></layout></annotation>",
        "d_bgonly": PAGE.format(name="d").split("<element label=\"headline\"")[0] + "</layout></annotation>",
    })
    data = load_magazine(root)
    assert data.names == ["a.xml"]
    np.testing.assert_allclose(data.boxes[0], [
        [0.5, 30 / 400, 0.8, 0.1],          # headline
        [0.25, 210 / 400, 0.5, 220 / 400],  # image: polygon min/max, background dropped
        [0.25, 220 / 400, 0.4, 0.1],        # text-over-image
    ], rtol=1e-6)
    assert data.labels[0].tolist() == [3, 2, 4]
    assert data.skipped == {"unparseable XML": 1, "missing or bad field size/width or size/height": 1,
                            "no element with a kept label": 1}
    assert "skipped" in caplog.text
    packed = data.padded(5)
    assert packed["mask"].tolist() == [[1, 1, 1, 0, 0]] and packed["labels"][0, 3:].tolist() == [0, 0]


def test_magazine_errors_name_path_and_field(tmp_path):
    with pytest.raises(PathNotFoundError, match="layoutdata"):
        load_magazine(str(tmp_path))
    root = _magazine(tmp_path, {"x": PAGE.replace("polygon_x=\"20 180 180 20\"", "polygon_x=\"20 oops\"")})
    with pytest.raises(LayoutFormatError, match="x.xml: missing or bad field polygon_x"):
        load_magazine(root)


def _screen(children, bounds=(0, 0, 1440, 2560)):
    return {"bounds": list(bounds), "class": "root", "children": children}


def test_rico_nested_children_and_filters(tmp_path):
    folder = tmp_path / "semantic_annotations"
    folder.mkdir()
    nested = {"bounds": [0, 0, 1440, 200], "componentLabel": "Toolbar", "children": [
        {"bounds": [20, 20, 120, 120], "componentLabel": "Icon"},
        {"bounds": [200, 40, 900, 100], "class": "unlabelled", "children": [
            {"bounds": [210, 50, 800, 90], "componentLabel": "Text"}]}]}
    screens = {
        "1": _screen([nested, {"bounds": [0, 2400, 1440, 2700], "componentLabel": "Text Button"},  # out of canvas
                      {"bounds": [0, 300, 1440, 300], "componentLabel": "Image"},  # empty
                      {"bounds": [0, 300, 720, 1580], "componentLabel": "Unknown Label"}]),
        "2": _screen([nested], bounds=(0, 0, 2560, 1440)),  # landscape
        "3": _screen([{"bounds": [0, 0, 10, 10], "componentLabel": "Icon"}] * 10),  # too many
        "4": "{not json",
    }
    for name, s in screens.items():
        (folder / f"{name}.json").write_text(s if isinstance(s, str) else json.dumps(s))
    data = load_rico(str(tmp_path))
    assert data.names == ["1.json"]
    assert data.labels[0].tolist() == [1, 4, 3]  # Toolbar, Icon, Text (depth-first)
    np.testing.assert_allclose(data.boxes[0][1], [70 / 1440, 70 / 2560, 100 / 1440, 100 / 2560], rtol=1e-6)
    assert data.skipped == {"landscape or offset screen": 1, "0 or more than 9 elements": 1, "unparseable JSON": 1}
    with pytest.raises(PathNotFoundError, match="semantic_annotations"):
        load_rico(str(tmp_path / "nope"))


def test_split_is_disjoint_and_complete():
    s = split_indices(100)
    assert [len(s[k]) for k in ("train", "val", "test")] == [85, 5, 10]
    assert sorted(np.concatenate(list(s.values())).tolist()) == list(range(100))

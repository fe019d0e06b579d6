"""official/data/{coco_captions,flickr30k_entities,region_features}.py on small fixtures written in the real
formats (COCO captions JSON + noun/adjective tokens + negatives JSON/h5py, Flickr30k Entities Sentences/*.txt +
Annotations/*.xml, boxes.hdf5 + features.hdf5): parsed values, bad records counted and skipped, and one-line
errors naming the file (what tools/_cli.py prints for a UserError)."""

from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest

from official.core.errors import PathNotFoundError, UserError
from official.data import coco_captions, flickr30k_entities
from official.data.region_features import RegionFeatures, RegionFeaturesError, write_region_features

SENTENCE = ("[/EN#18/people A man] in [/EN#19/clothing an orange hat] starring at "
            "[/EN#20/other something] .")
XML = """<annotation><filename>36979.jpg</filename><size><width>500</width><height>333</height><depth>3</depth></size>
<object><name>18</name><bndbox><xmin>1</xmin><ymin>11</ymin><xmax>200</xmax><ymax>300</ymax></bndbox></object>
<object><name>18</name><name>19</name><bndbox><xmin>50</xmin><ymin>60</ymin><xmax>90</xmax><ymax>80</ymax></bndbox></object>
<object><name>20</name><nobndbox>1</nobndbox></object>
<object><name>21</name><scene>1</scene><nobndbox>0</nobndbox></object></annotation>"""


def _json(path, payload):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("grounding"))
    _json(os.path.join(root, "captions.json"), {
        "images": [{"id": 9, "file_name": "COCO_train2014_000000000009.jpg"},
                   {"id": 25, "file_name": "COCO_train2014_000000000025.jpg"}],
        "annotations": [{"id": 90, "image_id": 9, "caption": " A red square and a blue star. "},
                        {"id": 91, "image_id": 9, "caption": "a green ring"},
                        {"id": 250, "image_id": 25, "caption": ""},  # bad: empty caption
                        {"id": 400, "image_id": 40, "caption": "a cat"},  # bad: no image entry
                        {"image_id": 25, "caption": "no id"}]})  # bad: no caption id
    _json(os.path.join(root, "tokens.json"), [{"image_id": 9, "cap_id": 90, "token_ids": [2, 3, 6, 7]},
                                               {"image_id": 9, "cap_id": 91, "token_ids": [2, 3]}])
    _json(os.path.join(root, "negs.json"), {"9": {"90": {"negs": {"7": ["heart", "moon"], "3": ["ring", "cross"]}}}})
    rng = np.random.default_rng(0)
    neg = rng.normal(size=(3, 8)).astype(np.float32)
    with h5py.File(os.path.join(root, "negs.h5py"), "w") as f:
        f.create_dataset("9_90_3", data=neg)
        f.create_dataset("9_91_2", data=np.zeros((2, 8), np.float32))  # wrong shape
    boxes = np.array([[0, 0, 10, 10], [5, 5, 30, 20], [1, 2, 3, 4]], np.float32)
    feats = rng.normal(size=(3, 6)).astype(np.float32)
    write_region_features(os.path.join(root, "det"), {
        "COCO_train2014_000000000009": (boxes, feats),
        "COCO_train2014_000000000025": (boxes, feats[:2]),  # bad record: 3 boxes, 2 feature rows
        "COCO_train2014_000000000031": (np.zeros((0, 4)), np.zeros((0, 6)))})  # bad record: no regions
    os.makedirs(os.path.join(root, "flickr", "Sentences"))
    os.makedirs(os.path.join(root, "flickr", "Annotations"))
    with open(os.path.join(root, "flickr", "Sentences", "36979.txt"), "w", encoding="utf-8") as f:
        f.write(SENTENCE + "\n\n[/EN#18/people Someone] waves\n")
    with open(os.path.join(root, "flickr", "Annotations", "36979.xml"), "w", encoding="utf-8") as f:
        f.write(XML)
    with open(os.path.join(root, "flickr", "test.txt"), "w", encoding="utf-8") as f:
        f.write("36979\n\n1000092795\n")
    return root, neg, boxes, feats


def test_coco_captions_tokens_and_negatives(root):
    path, neg, _, _ = root
    captions, skipped = coco_captions.read_captions(os.path.join(path, "captions.json"))
    assert [(c.image_id, c.cap_id, c.caption, c.image_name) for c in captions] == [
        (9, 90, "A red square and a blue star.", "COCO_train2014_000000000009"),
        (9, 91, "a green ring", "COCO_train2014_000000000009")]
    assert skipped == {"empty_caption": 1, "unknown_image": 1, "bad_annotation": 1}
    assert coco_captions.read_noun_adj_tokens(os.path.join(path, "tokens.json")) == {90: [2, 3, 6, 7], 91: [2, 3]}
    negatives = coco_captions.NegativeNouns(os.path.join(path, "negs.json"), os.path.join(path, "negs.h5py"), 3, 8)
    assert negatives.noun_id(9, 90) == 3 and negatives.noun_id(9, 91) == -1 and negatives.noun_id(7, 1) == -1
    np.testing.assert_array_equal(negatives.load(9, 90, 3), neg)
    assert negatives.load(9, 90, 7) is None and negatives.load(9, 91, -1) is None  # no cached features: neg_valid 0
    with pytest.raises(coco_captions.CocoCaptionsError, match=r"negs\.h5py: '9_91_2' has shape \(2, 8\)"):
        negatives.load(9, 91, 2)


def test_flickr30k_entities_sentences_and_annotations(root):
    path = os.path.join(root[0], "flickr")
    assert flickr30k_entities.read_split(os.path.join(path, "test.txt")) == ["36979", "1000092795"]
    first, second = flickr30k_entities.read_sentences(os.path.join(path, "Sentences", "36979.txt"))
    assert first["sentence"] == "A man in an orange hat starring at something ."
    assert [(p["phrase"], p["phrase_id"], p["first_word_index"], p["phrase_type"]) for p in first["phrases"]] == [
        ("A man", "18", 0, ["people"]), ("an orange hat", "19", 3, ["clothing"]), ("something", "20", 8, ["other"])]
    assert second["phrases"][0]["first_word_index"] == 0 and second["sentence"] == "Someone waves"
    annos = flickr30k_entities.read_annotations(os.path.join(path, "Annotations", "36979.xml"))
    # 1-based inclusive pixels -> 0-based; a box listing two entity names counts for both
    assert annos["boxes"] == {"18": [[0, 10, 199, 299], [49, 59, 89, 79]], "19": [[49, 59, 89, 79]]}
    assert annos["nobox"] == ["20"] and annos["scene"] == ["21"] and (annos["width"], annos["height"]) == (500, 333)
    with pytest.raises(flickr30k_entities.Flickr30kFormatError, match=r"36979\.txt:2: phrase EN#19 has no closing"):
        flickr30k_entities.parse_sentence("[/EN#19/clothing an orange hat", f"{path}/Sentences/36979.txt:2")
    bad = os.path.join(path, "Annotations", "bad.xml")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("<annotation><object><name>1</name></object></annotation>")
    with pytest.raises(flickr30k_entities.Flickr30kFormatError, match=r"bad\.xml: no <size> element"):
        flickr30k_entities.read_annotations(bad)


def test_region_features_pad_and_skip_bad_records(root):
    path, _, boxes, feats = root
    regions = RegionFeatures(os.path.join(path, "det"), 6)
    assert regions.names() == {"COCO_train2014_000000000009"}  # the two bad records are left out (callers count)
    out_boxes, out_feats, mask = regions.load("COCO_train2014_000000000009", 5)
    np.testing.assert_array_equal(out_boxes[:3], boxes)
    np.testing.assert_array_equal(out_feats[:3], feats)
    np.testing.assert_array_equal(mask, [1, 1, 1, 0, 0])
    assert not out_feats[3:].any()
    np.testing.assert_array_equal(regions.load("COCO_train2014_000000000009", 2)[2], [1, 1])  # first R kept
    assert regions.load("COCO_train2014_000000000025", 5) is None and regions.load("missing", 5) is None
    with pytest.raises(RegionFeaturesError, match=r"features\.hdf5: 'COCO_train2014_000000000009' has 6-d features"):
        RegionFeatures(os.path.join(path, "det"), 2048).load("COCO_train2014_000000000009", 5)


@pytest.mark.parametrize("call, name", [
    (lambda p: coco_captions.read_captions(os.path.join(p, "nope", "captions_train2014.json")), "captions_train2014.json"),
    (lambda p: coco_captions.read_noun_adj_tokens(os.path.join(p, "noun_adj_tokens_x.json")), "noun_adj_tokens_x.json"),
    (lambda p: coco_captions.NegativeNouns(os.path.join(p, "negs.json"), os.path.join(p, "n.h5py"), 3, 8), "n.h5py"),
    (lambda p: flickr30k_entities.read_sentences(os.path.join(p, "flickr", "Sentences", "1.txt")), "1.txt"),
    (lambda p: flickr30k_entities.read_annotations(os.path.join(p, "flickr", "Annotations", "1.xml")), "1.xml"),
    (lambda p: flickr30k_entities.read_split(os.path.join(p, "flickr", "val.txt")), "val.txt"),
    (lambda p: RegionFeatures(os.path.join(p, "nodet"), 6), "boxes.hdf5"),
])
def test_wrong_path_is_a_one_line_error_naming_the_file(root, call, name):
    with pytest.raises(PathNotFoundError) as err:
        call(root[0])
    message = str(err.value)
    assert isinstance(err.value, UserError) and "\n" not in message
    assert message.startswith(root[0]) and name in message.split(":")[0], message


def test_wrong_schema_is_a_one_line_error_naming_the_field(root):
    path = os.path.join(root[0], "schema.json")
    _json(path, {"images": []})
    with pytest.raises(coco_captions.CocoCaptionsError, match=r"schema\.json: no 'annotations' list") as err:
        coco_captions.read_captions(path)
    assert "\n" not in str(err.value)
    _json(path, [{"cap_id": 1}])
    with pytest.raises(coco_captions.CocoCaptionsError, match=r"schema\.json: entry 0 has no 'cap_id' / 'token_ids'"):
        coco_captions.read_noun_adj_tokens(path)

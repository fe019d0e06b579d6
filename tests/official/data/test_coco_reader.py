"""COCO reader: contiguous class map, exact boxes, malformed-annotation accounting, TFRecord round trip."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from official.data import coco, coco_tfrecord
from tools.make_shapes import write_shapes

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EXPECTED_INDEX = {1: 0, 3: 1, 7: 2}  # shapes' category ids (circle, square, triangle)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """16 shapes images (JPEG, 64 px) plus one extra image without any annotation."""
    root = tmp_path_factory.mktemp("coco")
    json_path, image_dir = write_shapes(str(root), num_train=16, num_val=0, size=64, seed=3)["train"]
    with open(json_path) as f:
        data = json.load(f)
    shutil.copy(os.path.join(image_dir, data["images"][0]["file_name"]), os.path.join(image_dir, "empty.jpg"))
    data["images"].append({"id": 999, "file_name": "empty.jpg", "width": 64, "height": 64})
    with open(json_path, "w") as f:
        json.dump(data, f)
    return json_path, image_dir, data


def expected_targets(data: dict) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image id: boxes (x, y, x+w, y+h) float32, class indices, crowd flags, straight from JSON."""
    out = {img["id"]: ([], [], []) for img in data["images"]}
    for a in data["annotations"]:
        x, y, w, h = a["bbox"]
        out[a["image_id"]][0].append([x, y, x + w, y + h])
        out[a["image_id"]][1].append(EXPECTED_INDEX[a["category_id"]])
        out[a["image_id"]][2].append(bool(a["iscrowd"]))
    return {
        k: (np.asarray(b, np.float32).reshape(-1, 4), np.asarray(c, np.int32), np.asarray(z, bool))
        for k, (b, c, z) in out.items()
    }


def as_numpy(ds: tf.data.Dataset) -> dict[int, dict[str, np.ndarray]]:
    return {int(ex["image_id"]): {k: v.numpy() for k, v in ex.items()} for ex in ds}


def test_contiguous_category_map_round_trip(shapes):
    anns = coco.CocoAnnotations.load(shapes[0])
    assert anns.category_ids == [1, 3, 7]
    assert anns.id_to_index == EXPECTED_INDEX
    assert anns.index_to_id == [1, 3, 7]
    assert anns.category_names == ["circle", "square", "triangle"]
    assert all(anns.id_to_index[anns.index_to_id[i]] == i for i in range(anns.num_classes))
    assert sum(anns.skipped.values()) == 0
    assert anns.image_annotations(999) == []


def test_reader_gives_json_boxes_exactly(shapes):
    json_path, image_dir, data = shapes
    got = as_numpy(coco.coco_dataset(json_path, image_dir))
    want = expected_targets(data)
    assert sorted(got) == sorted(want)
    assert any(z.any() for _, _, z in want.values()), "fixture must contain a crowd region"
    for image_id, (boxes, classes, crowd) in want.items():
        np.testing.assert_array_equal(got[image_id]["boxes"], boxes)
        np.testing.assert_array_equal(got[image_id]["classes"], classes)
        np.testing.assert_array_equal(got[image_id]["is_crowd"], crowd)
    assert got[999]["boxes"].shape == (0, 4) and got[999]["classes"].shape == (0,)
    first = data["images"][0]
    pixels = np.asarray(Image.open(os.path.join(image_dir, first["file_name"])).convert("RGB"))
    # TF's and PIL's JPEG decoders differ by a few levels at edges (chroma upsampling).
    assert np.abs(got[first["id"]]["image"].astype(int) - pixels).mean() < 2
    assert got[first["id"]]["image"].dtype == np.uint8
    # skip_empty drops the image without boxes; a seeded shuffle is a reproducible permutation.
    assert 999 not in as_numpy(coco.coco_dataset(json_path, image_dir, skip_empty=True))
    order = [int(e["image_id"]) for e in coco.coco_dataset(json_path, image_dir, shuffle=True, seed=7)]
    again = [int(e["image_id"]) for e in coco.coco_dataset(json_path, image_dir, shuffle=True, seed=7)]
    assert order == again and sorted(order) == sorted(want) and order != [i["id"] for i in data["images"]]


def test_tfrecord_round_trip_is_exact(shapes, tmp_path):
    json_path, image_dir, data = shapes
    prefix = str(tmp_path / "rec" / "train")
    cmd = [
        sys.executable,
        "-m",
        "tools.coco_to_tfrecord",
        f"--json={json_path}",
        f"--image_dir={image_dir}",
        f"--output={prefix}",
        "--num_shards=3",
    ]
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=REPO))
    assert sorted(os.listdir(tmp_path / "rec")) == [
        "train-00000-of-00003.tfrecord",
        "train-00001-of-00003.tfrecord",
        "train-00002-of-00003.tfrecord",
        "train.categories.json",
    ]
    meta = coco_tfrecord.load_category_map(prefix + "-*-of-*.tfrecord")
    assert meta["index_to_id"] == [1, 3, 7] and meta["num_images"] == 17
    from_json = as_numpy(coco.coco_dataset(json_path, image_dir))
    from_rec = as_numpy(coco_tfrecord.tfrecord_dataset(prefix + "-*"))
    assert sorted(from_rec) == sorted(from_json)
    for image_id, ex in from_json.items():
        for key in coco.RAW_KEYS:
            np.testing.assert_array_equal(from_rec[image_id][key], ex[key], err_msg=f"{image_id} {key}")
            assert from_rec[image_id][key].dtype == ex[key].dtype
    # The stored image is the file's bytes, and category ids are stored next to the indices.
    files = {img["id"]: img["file_name"] for img in data["images"]}
    cats = {}
    for a in data["annotations"]:
        cats.setdefault(a["image_id"], []).append(a["category_id"])
    ds = tf.data.TFRecordDataset(sorted(str(p) for p in (tmp_path / "rec").glob("*.tfrecord")))
    for raw in ds.map(lambda s: coco_tfrecord.parse_example(s, raw=True)):
        image_id = int(raw["image/source_id"])
        with open(os.path.join(image_dir, files[image_id]), "rb") as f:
            assert raw["image/encoded"].numpy() == f.read()
        assert raw["image/object/class/category_id"].numpy().tolist() == cats.get(image_id, [])
        assert raw["image/format"].numpy() == b"jpeg"


def test_malformed_annotations_are_counted_and_skipped(tmp_path, caplog):
    for name in ("a.png", "b.png"):
        Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tmp_path / name)
    images = [
        {"id": 1, "file_name": "a.png", "width": 30, "height": 20},
        {"id": 2, "file_name": "b.png", "width": 30, "height": 20},
    ]
    anns = [
        {"id": 10, "image_id": 1, "category_id": 5, "bbox": [1, 2, 3, 4], "iscrowd": 0},  # good
        {"id": 11, "image_id": 1, "category_id": 5, "bbox": [1, 2, -3, 4]},  # negative width
        {"id": 12, "image_id": 2, "category_id": 5, "bbox": [1, 2, 3, 0]},  # zero height
        {"id": 13, "image_id": 7, "category_id": 5, "bbox": [1, 2, 3, 4]},  # unknown image
        {"id": 14, "image_id": 2, "bbox": [1, 2, 3, 4]},  # no category
        {"id": 15, "image_id": 2, "category_id": 9, "bbox": [1, 2, 3, 4]},  # unknown category
        {"id": 16, "image_id": 2, "category_id": 5, "bbox": [1, 2, 3]},  # 3 numbers
        {"image_id": 2, "category_id": 5, "bbox": [1, 2, 3, 4]},  # no id (list index 7)
        {"id": 18, "image_id": 2, "category_id": 5, "bbox": [0, 0, 30, 20], "iscrowd": 1},  # good, crowd
    ]
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps({"images": images, "annotations": anns, "categories": [{"id": 5, "name": "x"}]})
    )
    with caplog.at_level(logging.WARNING):
        loaded = coco.CocoAnnotations.load(str(path))
    assert loaded.skipped == {
        "missing_id": 1,
        "bad_bbox": 3,
        "unknown_image": 1,
        "missing_category": 1,
        "unknown_category": 1,
    }
    assert loaded.skipped_ids["bad_bbox"] == [11, 12, 16] and loaded.skipped_ids["missing_id"] == ["#7"]
    for ann_id in ("id=11", "id=12", "id=13", "id=14", "id=15", "id=16", "id=#7"):
        assert ann_id in caplog.text
    assert "skipped 7 of 9 annotations" in caplog.text
    got = as_numpy(coco.coco_dataset(str(path), str(tmp_path)))
    np.testing.assert_array_equal(got[1]["boxes"], [[1, 2, 4, 6]])
    np.testing.assert_array_equal(got[2]["boxes"], [[0, 0, 30, 20]])
    np.testing.assert_array_equal(got[2]["is_crowd"], [True])


def test_bad_files_are_clear_errors(tmp_path):
    good = {
        "images": [{"id": 1, "file_name": "x.png", "width": 4, "height": 4}],
        "annotations": [],
        "categories": [{"id": 1, "name": "a"}],
    }
    cases = [
        ({k: v for k, v in good.items() if k != "annotations"}, "missing key 'annotations'"),
        (dict(good, images=[{"id": 1, "width": 4, "height": 4}]), r"images\[0\] has no 'file_name'"),
        (dict(good, categories=[{"id": 1}]), r"categories\[0\] \(id 1\) has no 'name'"),
    ]
    for i, (data, message) in enumerate(cases):
        path = tmp_path / f"case{i}.json"
        path.write_text(json.dumps(data))
        with pytest.raises(coco.CocoFormatError, match=message) as err:
            coco.CocoAnnotations.load(str(path))
        assert str(path) in str(err.value)
    (tmp_path / "text.json").write_text("not json")
    with pytest.raises(coco.CocoFormatError, match="not valid JSON"):
        coco.CocoAnnotations.load(str(tmp_path / "text.json"))
    path = tmp_path / "good.json"
    path.write_text(json.dumps(good))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "x.png")):
        coco.coco_dataset(str(path), str(tmp_path))

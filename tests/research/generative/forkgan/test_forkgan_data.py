"""ForkGAN's data in the datasets' own formats (official/data/night_day_lists.py), on fixtures written here:
Alderley FRAMESA (night) / FRAMESB (day) numbered frames split 4/5 by frame number; BDD100K images/100k/<split>
with labels/det_20/det_<split>.json split by attributes.timeofday (dawn/dusk left out, a record without
attributes and a listed missing image counted and skipped); the reader yields (B, 32, 64, 3) crops in [-1, 1]
of the right domains; wrong paths and schemas are one-line DatasetErrors naming the file."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from official.data import night_day_lists, unpaired_images
from official.data.imagefolder import DatasetError


def _jpeg(path, bright):
    rng = np.random.default_rng(len(path))
    base = 200 if bright else 30
    pixels = np.clip(base + rng.normal(0, 10, (40, 80, 3)), 0, 255).astype(np.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels).save(path, quality=95)


def _alderley(root):
    for i in (1, 2, 3, 4, 10):  # numeric order: Image00010 is the last frame
        _jpeg(os.path.join(root, "FRAMESA", f"Image{i:05d}.jpg"), bright=False)
    for i in range(1, 6):
        _jpeg(os.path.join(root, "FRAMESB", f"Image{i:05d}.jpg"), bright=True)
    open(os.path.join(root, "FRAMESA", "Thumbs.db"), "w").close()


def _bdd(root):
    frames = [("n1.jpg", "night"), ("n2.jpg", "night"), ("d1.jpg", "daytime"), ("d2.jpg", "daytime"),
              ("t1.jpg", "dawn/dusk")]
    records = []
    for name, tod in frames:
        _jpeg(os.path.join(root, "images", "100k", "train", name), bright=tod == "daytime")
        records.append({"name": name, "attributes": {"weather": "rainy", "timeofday": tod, "scene": "city street"},
                        "labels": [{"category": "car", "box2d": {"x1": 1.0, "y1": 2.0, "x2": 30.0, "y2": 20.0}},
                                   {"category": "person", "box2d": {"x1": 40.0, "y1": 5.0, "x2": 50.0, "y2": 35.0}}]})
    records.append({"name": "gone.jpg", "attributes": {"timeofday": "night"}})  # listed, not on disk
    records.append({"name": "broken.jpg"})  # no attributes
    os.makedirs(os.path.join(root, "labels", "det_20"))
    with open(os.path.join(root, "labels", "det_20", "det_train.json"), "w") as f:
        json.dump(records, f)


def test_alderley_split_by_frame_number(tmp_path):
    root = str(tmp_path / "alderley")
    _alderley(root)
    train = night_day_lists.alderley_paths(root, "train")
    test = night_day_lists.alderley_paths(root, "test")
    assert [os.path.basename(p) for p in train["A"]] == [f"Image{i:05d}.jpg" for i in (1, 2, 3, 4)]
    assert [os.path.basename(p) for p in test["A"]] == ["Image00010.jpg"]
    assert len(train["B"]) == 4 and len(test["B"]) == 1 and all("FRAMESB" in p for p in train["B"])
    assert unpaired_images.domain_sizes(root, "train", "alderley") == {"A": 4, "B": 4}
    ds = unpaired_images.unpaired_dataset(root, "train", True, 2, (36, 72), (32, 64), seed=0, source="alderley")
    batch = next(iter(ds))
    assert batch["a"].shape == (2, 32, 64, 3) and batch["b"].shape == (2, 32, 64, 3)
    assert float(batch["a"].numpy().mean()) < -0.5 < 0.3 < float(batch["b"].numpy().mean())  # night dark, day bright
    with pytest.raises(DatasetError, match="FRAMESA"):
        night_day_lists.alderley_paths(str(tmp_path / "nowhere"), "train")


def test_bdd100k_split_by_time_of_day(tmp_path, caplog):
    root = str(tmp_path / "bdd100k")
    _bdd(root)
    paths = night_day_lists.bdd100k_paths(root, "train")
    assert [os.path.basename(p) for p in paths["A"]] == ["n1.jpg", "n2.jpg"]
    assert [os.path.basename(p) for p in paths["B"]] == ["d1.jpg", "d2.jpg"]
    assert "skipped 1 record(s)" in caplog.text and "1 listed image(s) missing" in caplog.text
    ds = unpaired_images.unpaired_dataset(root, "train", False, 2, (32, 64), (32, 64), source="bdd100k_timeofday")
    batch = next(iter(ds))
    assert batch["a"].shape == (2, 32, 64, 3)
    assert float(batch["a"].numpy().mean()) < -0.5 < 0.3 < float(batch["b"].numpy().mean())
    with pytest.raises(DatasetError, match="det_val.json"):  # test = the val labels, absent here
        night_day_lists.bdd100k_paths(root, "test")
    with open(os.path.join(root, "labels", "det_20", "det_train.json"), "w") as f:
        json.dump({"frames": []}, f)
    with pytest.raises(DatasetError, match=r"det_train.json: expected a JSON list"):
        night_day_lists.bdd100k_paths(root, "train")
    with pytest.raises(DatasetError, match="source: expected one of"):
        unpaired_images.source_paths("bdd", root, "train")

"""The fine-grained listers on tiny copies of each dataset's real layout (8x8 JPEGs, txt lists, a .mat
written with scipy.io.savemat): labels and splits, bad records counted and skipped, one-line errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import scipy.io
from PIL import Image

from official.core.config import DataConfig
from official.data import classification_input, fine_grained
from official.data.image_decode import SkipCounter
from official.data.imagefolder import DatasetError


def _jpeg(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path, quality=95)


def _cub(tmp_path, name="CUB_200_2011", class_ids=(1, 2, 3, 4)):
    """4 classes x 3 images; image 3 of each class is a test image; 3 bad lines."""
    root = tmp_path / name
    images, labels, split = [], [], []
    n = 0
    for c in class_ids:
        for i in range(3):
            n += 1
            rel = f"{c:03d}.cls{c}/img_{i}.jpg"
            _jpeg(root / "images" / rel, (20 * c) % 250)
            images.append(f"{n} {rel}")
            labels.append(f"{n} {c}")
            split.append(f"{n} {int(i < 2)}")
    images += [f"{n + 1} 001.cls1/missing.jpg", f"{n + 2}"]  # missing file, wrong field count
    labels += [f"{n + 1} {class_ids[0]}"]
    split += [f"{n + 1} 1", f"{n + 2} 1", f"{n + 3} 1"]
    images += [f"{n + 3} 001.cls1/img_0.jpg"]  # no class label
    (root / "images.txt").write_text("\n".join(images) + "\n")
    (root / "image_class_labels.txt").write_text("\n".join(labels) + "\n")
    (root / "train_test_split.txt").write_text("\n".join(split) + "\n")
    (root / "classes.txt").write_text("\n".join(f"{c} {c:03d}.cls{c}" for c in class_ids) + "\n")
    return root


def test_cub_splits_labels_and_skips(tmp_path, caplog):
    root = _cub(tmp_path)
    skipped = SkipCounter("cub_test")
    with caplog.at_level(logging.WARNING):
        paths, labels, names = fine_grained.list_split("cub", str(root / "train"), skipped)
    assert labels == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [p.split("/")[-1] for p in paths[:3]] == ["img_0.jpg", "img_1.jpg", "img_0.jpg"]
    assert names == ["001.cls1", "002.cls2", "003.cls3", "004.cls4"]
    assert skipped.count == 3
    assert "skipped 3 record(s) (1 images.txt field count, 1 missing image, 1 no class)" in caplog.text
    _, test_labels, _ = fine_grained.list_split("cub", str(root / "test"))
    assert test_labels == [0, 1, 2, 3]


def test_nabirds_maps_sparse_class_ids_in_order(tmp_path):
    root = _cub(tmp_path, "nabirds", class_ids=(295, 817, 1000, 313))
    _, labels, names = fine_grained.list_split("nabirds", str(root / "test"))
    assert labels == [0, 2, 3, 1]  # ids 295, 817, 1000, 313 -> positions among the sorted 295, 313, 817, 1000
    assert names[1] == "313.cls313"


def test_aircraft_variant_names_with_spaces(tmp_path):
    data = tmp_path / "fgvc-aircraft-2013b" / "data"
    variants = ["707-320", "Boeing 717", "A300B4"]
    data.mkdir(parents=True)
    (data / "variants.txt").write_text("\n".join(variants) + "\n")
    lines = []
    for i, v in enumerate(["Boeing 717", "A300B4", "707-320", "A300B4"]):
        _jpeg(data / "images" / f"{1000 + i:07d}.jpg", 30 * i)
        lines.append(f"{1000 + i:07d} {v}")
    lines += ["0000999 Concorde", "0001000", "0002000 A300B4"]  # unknown, field count, missing image
    (data / "images_variant_trainval.txt").write_text("\n".join(lines) + "\n")
    skipped = SkipCounter("aircraft_test")
    paths, labels, names = fine_grained.list_split("aircraft", str(data.parent / "trainval"), skipped)
    assert labels == [1, 2, 0, 2] and names == variants and skipped.count == 3
    assert paths[0].endswith("data/images/0001000.jpg")


def _cars(tmp_path):
    root = tmp_path / "stanford_cars"
    (root / "devkit").mkdir(parents=True)
    scipy.io.savemat(root / "devkit" / "cars_meta.mat",
                     {"class_names": np.array(["AM General Hummer SUV 2000", "Acura RL Sedan 2012"], dtype=object)})
    records = []
    for i, cls in enumerate([2, 1, 2, 3]):  # class 3 is out of range
        fname = f"{i + 1:05d}.jpg"
        _jpeg(root / "cars_train" / fname, 40 * i)
        records.append((1, 2, 7, 7, cls, fname))
    records.append((1, 2, 7, 7, 1, "99999.jpg"))  # missing image
    dtype = [("bbox_x1", "O"), ("bbox_y1", "O"), ("bbox_x2", "O"), ("bbox_y2", "O"), ("class", "O"), ("fname", "O")]
    scipy.io.savemat(root / "devkit" / "cars_train_annos.mat", {"annotations": np.array([records], dtype=dtype)})
    return root


def test_stanford_cars_mat_annotations(tmp_path):
    root = _cars(tmp_path)
    skipped = SkipCounter("cars_test")
    paths, labels, names = fine_grained.list_split("cars", str(root / "train"), skipped)
    assert labels == [1, 0, 1] and skipped.count == 2
    assert names == ["AM General Hummer SUV 2000", "Acura RL Sedan 2012"]
    assert [p.split("/")[-1] for p in paths] == ["00001.jpg", "00002.jpg", "00003.jpg"]
    bad = [("fname", "O"), ("bbox_x1", "O")]
    scipy.io.savemat(root / "devkit" / "cars_train_annos.mat",
                     {"annotations": np.array([[("00001.jpg", 1)]], dtype=bad)})
    with pytest.raises(DatasetError, match=r"cars_train_annos.mat: field 'class' missing"):
        fine_grained.list_split("cars", str(root / "train"))


def _food(tmp_path):
    root = tmp_path / "food-101"
    (root / "meta").mkdir(parents=True)
    (root / "meta" / "classes.txt").write_text("apple_pie\nbaby_back_ribs\n")
    for cls, ids in (("apple_pie", ("1005649", "1011328")), ("baby_back_ribs", ("1007102",))):
        for i in ids:
            _jpeg(root / "images" / cls / f"{i}.jpg", len(i) * 9)
    (root / "meta" / "train.txt").write_text("apple_pie/1005649\nbaby_back_ribs/1007102\nsushi/1\nnoslash\n")
    (root / "meta" / "test.txt").write_text("apple_pie/1011328\n")
    return root


def test_food101_meta_lists(tmp_path):
    root = _food(tmp_path)
    skipped = SkipCounter("food_test")
    paths, labels, names = fine_grained.list_split("food101", str(root / "train"), skipped)
    assert labels == [0, 1] and names == ["apple_pie", "baby_back_ribs"] and skipped.count == 2
    assert paths[1].endswith("images/baby_back_ribs/1007102.jpg")
    assert fine_grained.list_split("food101", str(root / "test"))[1] == [0]


def test_wrong_paths_are_one_line_errors(tmp_path):
    root = _cub(tmp_path)
    with pytest.raises(DatasetError, match=r"data.path must be the cub root followed by a split name"):
        fine_grained.list_split("cub", str(root))
    with pytest.raises(DatasetError, match=r"nowhere: cub dataset root does not exist"):
        fine_grained.list_split("cub", str(tmp_path / "nowhere" / "train"))
    (root / "train_test_split.txt").unlink()
    with pytest.raises(DatasetError, match=r"train_test_split.txt: split \(image_id is_training_image\) does not exist"):
        fine_grained.list_split("cub", str(root / "train"))
    food = _food(tmp_path)
    (food / "meta" / "classes.txt").unlink()
    with pytest.raises(DatasetError, match=r"meta/classes.txt: class list does not exist") as err:
        fine_grained.list_split("food101", str(food / "train"))
    assert "\n" not in str(err.value)


def test_one_batch_through_data_source(tmp_path):
    root = _cub(tmp_path)
    cfg = DataConfig(source="cub", path=str(root / "test"), image_size=8, crop_pct=1.0)
    source = classification_input.open_source(cfg)
    assert source.num_examples == 4 and len(source.class_names) == 4
    images, labels = next(iter(classification_input.build_dataset(cfg, False, 4, source=source)))
    assert images.shape == (4, 8, 8, 3) and labels.numpy().tolist() == [0, 1, 2, 3]
    # flat grey per class survives JPEG: pixel means ordered like the classes
    assert np.all(np.diff(images.numpy().mean(axis=(1, 2, 3))) > 0)

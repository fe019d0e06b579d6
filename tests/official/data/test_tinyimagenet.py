"""The Tiny ImageNet reader on a 3-class copy of the real layout (64x64 JPEGs, wnids.txt, val annotations)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from official.core.config import DataConfig
from official.data import classification_input, tinyimagenet
from official.data.image_decode import SkipCounter
from official.data.imagefolder import DatasetError

WNIDS = ["n03444034", "n01443537", "n02094433"]  # wnids.txt order; sorted: n01443537, n02094433, n03444034
SHADES = {"n01443537": 40, "n02094433": 120, "n03444034": 220}  # flat grey per class (JPEG keeps it)


def _jpeg(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((64, 64, 3), value, np.uint8)).save(path, quality=95)


def _fixture(tmp_path):
    root = tmp_path / "tiny-imagenet-200"
    root.mkdir()
    (root / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    for wnid in WNIDS:
        for i in range(2):
            _jpeg(root / "train" / wnid / "images" / f"{wnid}_{i}.JPEG", SHADES[wnid])
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text(f"{wnid}_0.JPEG\t0\t0\t63\t63\n")
    lines = []
    for i, wnid in enumerate(["n03444034", "n01443537", "n02094433", "n01443537"]):
        _jpeg(root / "val" / "images" / f"val_{i}.JPEG", SHADES[wnid])
        lines.append(f"val_{i}.JPEG\t{wnid}\t0\t0\t63\t63")
    lines += ["val_0.JPEG\tn09999999\t0\t0\t63\t63", "val_1.JPEG\tn01443537", "val_77.JPEG\tn01443537\t0\t0\t1\t1"]
    (root / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return root


def test_train_split_labels_are_sorted_wnid_positions(tmp_path):
    root = _fixture(tmp_path)
    paths, labels, wnids = tinyimagenet.list_tinyimagenet(str(root / "train"))
    assert wnids == ["n01443537", "n02094433", "n03444034"]
    assert labels == [0, 0, 1, 1, 2, 2]
    assert [p.split("/")[-1] for p in paths[:2]] == ["n01443537_0.JPEG", "n01443537_1.JPEG"]
    assert all(p.endswith(".JPEG") for p in paths)  # the boxes files are not images


def test_val_annotations_skip_bad_lines_with_a_summary(tmp_path, caplog):
    root = _fixture(tmp_path)
    skipped = SkipCounter("tiny_test")
    with caplog.at_level(logging.WARNING):
        paths, labels, _ = tinyimagenet.list_tinyimagenet(str(root / "val") + "/", skipped)
    assert [p.split("/")[-1] for p in paths] == ["val_0.JPEG", "val_1.JPEG", "val_2.JPEG", "val_3.JPEG"]
    assert labels == [2, 0, 1, 0]
    assert skipped.count == 3
    assert "val_annotations.txt: skipped 3 annotation line(s) (1 field count, 1 unknown wnid, 1 missing image)" in caplog.text


def test_errors_name_the_file(tmp_path):
    root = _fixture(tmp_path)
    with pytest.raises(DatasetError, match="must name a split folder"):
        tinyimagenet.list_tinyimagenet(str(root))
    (root / "val" / "val_annotations.txt").unlink()
    with pytest.raises(DatasetError, match="val_annotations.txt: Tiny ImageNet val annotations do not exist"):
        tinyimagenet.list_tinyimagenet(str(root / "val"))
    (root / "wnids.txt").unlink()
    with pytest.raises(DatasetError, match="tiny-imagenet-200/wnids.txt: Tiny ImageNet class list does not exist"):
        tinyimagenet.list_tinyimagenet(str(root / "train"))


def test_source_tinyimagenet_batches_decoded_pixels(tmp_path):
    root = _fixture(tmp_path)
    cfg = DataConfig(source="tinyimagenet", path=str(root / "val"), image_size=64, random_resized_crop=False,
                     horizontal_flip=False, crop_pct=1.0, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    source = classification_input.open_source(cfg)
    assert source.num_examples == 4 and source.skipped.count == 3 and source.class_names[2] == "n03444034"
    images, labels = next(iter(classification_input.build_dataset(cfg, False, 4, source=source)))
    assert images.shape == (4, 64, 64, 3)
    assert labels.numpy().tolist() == [2, 0, 1, 0]
    np.testing.assert_allclose(images.numpy().mean(axis=(1, 2, 3)), [220, 40, 120, 40], atol=2)

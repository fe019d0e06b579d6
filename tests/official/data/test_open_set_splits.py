"""Open-set splits: ARPL's lists and run order, and `data.classes` keeping and renumbering the known classes
(or routing only unknown ones) through every reader, on fixtures in the real formats."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from PIL import Image

from official.core.config import DataConfig
from official.data import classification_input
from official.data.class_subset import class_subset
from official.data.imagefolder import DatasetError
from official.data.open_set_splits import SPLITS_2020, known_unknown


def test_item_i_is_list_entry_four_minus_i_like_osr_py():
    assert known_unknown("cifar10", 0) == ((2, 4, 1, 7, 9, 6), (0, 3, 5, 8))
    assert known_unknown("mnist", 4)[0] == (2, 4, 5, 9, 8, 3)
    assert known_unknown("digits", 2) == known_unknown("mnist", 2)
    known, unknown = known_unknown("cifar_plus10", 0)
    assert known == (1, 0, 9, 8) and unknown == (33, 2, 3, 97, 46, 21, 64, 63, 88, 43)
    assert len(known_unknown("cifar_plus50", 1)[1]) == 50


@pytest.mark.parametrize("dataset, known, total", [("mnist", 6, 10), ("svhn", 6, 10), ("cifar10", 6, 10), ("tinyimagenet", 20, 200)])
def test_known_and_unknown_partition_the_classes(dataset, known, total):
    for item in range(5):
        k, u = known_unknown(dataset, item)
        assert len(k) == known and len(set(k)) == known
        assert sorted(k + u) == list(range(total))


def test_cifar_plus_lists_are_four_known_and_distinct_cifar100_unknowns():
    assert all(len(k) == 4 for k in SPLITS_2020["cifar100"])
    for key, n in (("cifar100-10", 10), ("cifar100-50", 50)):
        assert all(len(set(u)) == n and max(u) < 100 for u in SPLITS_2020[key])


def test_bad_dataset_or_item_is_named():
    with pytest.raises(ValueError, match="open-set dataset"):
        known_unknown("imagenet")
    with pytest.raises(ValueError, match="0..4"):
        known_unknown("mnist", 5)


def test_class_subset_renumbers_in_list_order():
    keep, labels = class_subset([3, 0, 7, 3, 5, 9], (7, 3), 10, "x")
    assert keep.tolist() == [0, 2, 3] and labels.tolist() == [1, 0, 1]
    with pytest.raises(DatasetError, match="x: data.classes: .* twice"):
        class_subset([0], (1, 1), 10, "x")
    with pytest.raises(DatasetError, match="outside 0..9"):
        class_subset([0], (10,), 10, "x")


def _dump(obj, path):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def _cifar(root: str, name: str, labels: np.ndarray, key: bytes) -> tuple[str, np.ndarray]:
    """A CIFAR python pickle; every image is filled with its own index, so it can be traced."""
    os.makedirs(root, exist_ok=True)
    data = np.repeat(np.arange(len(labels), dtype=np.uint8)[:, None], 3072, axis=1)
    _dump({key: labels.tolist(), b"data": data}, os.path.join(root, name))
    return os.path.join(root, name), data


def _read(cfg: DataConfig) -> tuple[list[int], list[int], int, list[str]]:
    source = classification_input.open_source(cfg)
    pairs = [(int(ex["image"][0, 0, 0]), int(ex["label"])) for ex in source.decoded]
    return [p[0] for p in pairs], [p[1] for p in pairs], source.num_examples, source.class_names


def test_cifar10_known_split_and_cifar100_out_set(tmp_path):
    # The card's fixture: a 60-image CIFAR-10 pickle (6 per class) and a 40-image CIFAR-100 pickle.
    c10_labels = np.tile(np.arange(10), 6)
    c10, _ = _cifar(str(tmp_path / "c10"), "test_batch", c10_labels, b"labels")
    c100_labels = np.asarray([33, 2, 3, 97, 46, 21, 64, 63, 88, 43, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] * 2)
    c100, _ = _cifar(str(tmp_path / "c100"), "test", c100_labels, b"fine_labels")

    known, unknown = known_unknown("cifar_plus10", 0)  # known (1, 0, 9, 8)
    index, labels, n, _ = _read(DataConfig(source="cifar", path=c10, classes=known))
    assert n == 24 and sorted(index) == [i for i in range(60) if c10_labels[i] in known]
    assert labels == [known.index(c10_labels[i]) for i in index]  # 1 -> 0, 0 -> 1, 9 -> 2, 8 -> 3

    index, _, n, _ = _read(DataConfig(source="cifar", path=c100, classes=unknown))
    assert n == 20 and set(c100_labels[index]) == set(unknown)  # only the cifar100-10 classes

    known, unknown = known_unknown("cifar10", 3)
    index, _, n, _ = _read(DataConfig(source="cifar", path=c10, classes=unknown))
    assert n == 24 and not set(c10_labels[index]) & set(known)


def test_file_sources_subset_and_class_names(tmp_path):
    for name in ("a", "b", "c"):
        os.makedirs(tmp_path / "f" / name)
        for i in range(2):
            Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "f" / name / f"{i}.png")
    source = classification_input.open_source(DataConfig(source="imagefolder", path=str(tmp_path / "f"), classes=(2, 0)))
    rows = sorted((ex["source"].numpy().decode().split(os.sep)[-2], int(ex["label"])) for ex in source.examples)
    assert source.num_examples == 4 and source.class_names == ["c", "a"]
    assert rows == [("a", 1), ("a", 1), ("c", 0), ("c", 0)]


def test_tfrecord_subset_is_refused_with_the_field_named(tmp_path):
    with pytest.raises(DatasetError, match="data.classes: not supported for TFRecord"):
        classification_input.open_source(DataConfig(source="tfrecord", path=str(tmp_path / "x-*"), classes=(1,)))

"""Market-1501 layout reader and PK sampler on a fixture in the real format (spec card): 3 train ids x 4
256x128 JPEGs over 2 cameras, 2 query and 6 gallery images (one pid -1 junk, one pid 0 distractor)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from official.data import market1501, pk_sampler
from official.data.imagefolder import DatasetError

TRAIN = [f"{pid:04d}_c{1 + i % 2}s1_{100 * pid + i:06d}_01.jpg" for pid in (2, 7, 11) for i in range(4)]
QUERY = ["0003_c1s1_000001_00.jpg", "0005_c2s1_000002_00.jpg"]
GALLERY = ["0003_c2s1_000011_01.jpg", "0003_c1s1_000012_01.jpg", "0005_c1s1_000013_01.jpg",
           "0005_c2s1_000014_01.jpg", "-1_c1s1_000015_01.jpg", "0000_c2s1_000016_01.jpg"]


def _write(folder, names, rng):
    os.makedirs(folder, exist_ok=True)
    for n in names:
        Image.fromarray(rng.integers(0, 255, (256, 128, 3), dtype=np.uint8)).save(os.path.join(folder, n))


@pytest.fixture()
def market(tmp_path):
    rng = np.random.default_rng(0)
    root = str(tmp_path / "Market-1501")
    for split, names in (("bounding_box_train", TRAIN), ("query", QUERY), ("bounding_box_test", GALLERY)):
        _write(os.path.join(root, split), names, rng)
    return root


def test_train_split_relabels_and_parses(market):
    split = market1501.list_split(market, "train")
    assert len(split) == 12 and split.num_pids == 3
    np.testing.assert_array_equal(split.pids, np.repeat([0, 1, 2], 4))  # 2, 7, 11 -> 0, 1, 2
    np.testing.assert_array_equal(split.original_pids, np.repeat([2, 7, 11], 4))
    np.testing.assert_array_equal(split.camids, np.tile([0, 0, 1, 1], 3))  # c1/c2 -> 0/1 (name order: c1 files first)
    assert split.skipped == {}


def test_gallery_drops_junk_keeps_distractor(market):
    gallery = market1501.list_split(market, "gallery")
    assert len(gallery) == 5 and gallery.skipped == {"junk (pid -1)": 1}
    assert 0 in gallery.pids and -1 not in gallery.pids
    np.testing.assert_array_equal(np.sort(gallery.pids), [0, 3, 3, 5, 5])  # not relabelled
    query = market1501.list_split(market, "query")
    np.testing.assert_array_equal(query.pids, [3, 5])
    np.testing.assert_array_equal(query.camids, [0, 1])


def test_bad_files_are_counted_and_skipped(market):
    folder = os.path.join(market, "query")
    with open(os.path.join(folder, "0009_c1s1_000003_00.jpg"), "wb") as f:
        f.write(open(os.path.join(folder, QUERY[0]), "rb").read()[:500])  # truncated download
    Image.new("RGB", (8, 8)).save(os.path.join(folder, "readme_c.jpg"))
    query = market1501.list_split(market, "query")
    assert len(query) == 2
    assert query.skipped == {"unreadable image": 1, "name without pid_cN": 1}


def test_one_line_errors(tmp_path, market):
    with pytest.raises(DatasetError, match=r"nowhere: Market-1501 root folder does not exist"):
        market1501.list_split(str(tmp_path / "nowhere"), "train")
    os.rename(os.path.join(market, "query"), os.path.join(market, "q"))
    with pytest.raises(DatasetError) as err:
        market1501.list_split(market, "query")
    assert str(err.value).startswith(os.path.join(market, "query") + ": missing") and "\n" not in str(err.value)


def test_pk_batches(market):
    pids = market1501.list_split(market, "train").pids
    order = pk_sampler.pk_indices(pids, p=2, k=2, epochs=3, seed=0)
    assert pk_sampler.epoch_length(pids, 2) == 12
    batches = order.reshape(-1, 4)
    for batch in batches:  # 2 identities x 2 images, no image twice
        ids = pids[batch]
        assert len(set(batch)) == 4 and ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    # one epoch: 6 groups of 2 over 3 identities -> 3 batches of P=2 while >= 2 identities remain
    assert len(order) % 4 == 0 and len(order) >= 3 * 8
    few = np.array([0, 0, 0, 1, 2, 2])  # identity 1 has one image: drawn with replacement up to K
    for batch in pk_sampler.pk_indices(few, 2, 2, 5, seed=1).reshape(-1, 4):
        assert few[batch[0]] == few[batch[1]]

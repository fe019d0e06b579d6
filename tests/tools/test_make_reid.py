"""tools.make_reid writes a Market-1501-layout set that the reader parses: disjoint train/test ids,
one query per test id and camera, gallery matches in other cameras, distractors (0000) and junk (-1)."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from official.data import market1501
from tools.make_reid import write_reid


def test_written_set_follows_the_layout(tmp_path):
    out = str(tmp_path / "reid")
    counts = write_reid(out, train_ids=3, test_ids=2, images_per_id=4, cameras=2, gallery_per_id=1, distractors=2, junk=1)
    assert counts == {"bounding_box_train": 12, "query": 4, "bounding_box_test": 7}
    train = market1501.list_split(out, "train")
    np.testing.assert_array_equal(train.pids, np.repeat([0, 1, 2], 4))
    query, gallery = market1501.list_split(out, "query"), market1501.list_split(out, "gallery")
    assert set(query.original_pids) == {4, 5} and not set(query.original_pids) & set(train.original_pids)
    assert gallery.skipped == {"junk (pid -1)": 1} and int(np.sum(gallery.pids == 0)) == 2
    for pid, cam in zip(query.pids, query.camids, strict=True):  # a match in another camera exists
        assert np.any((gallery.pids == pid) & (gallery.camids != cam))
    image = Image.open(train.paths[0])
    assert image.size == (64, 128) and image.format == "JPEG"
    # a second call keeps the finished set
    assert write_reid(out, train_ids=3, test_ids=2, images_per_id=4, cameras=2, gallery_per_id=1, distractors=2,
                      junk=1) == counts
    assert os.path.exists(os.path.join(out, ".complete"))

"""The imaginaire few-shot layout reader (official/data/few_shot_images.py) on the card's fixture: 3 classes x
3 JPEGs (64 x 64 coloured shapes) in images_content/ and images_style/, and a test folder with content of
seen classes and styles of an unseen class. Labels are the sorted union of class folders; a bad file is
skipped and counted; a missing folder is a one-line DatasetError naming it."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from official.data import few_shot_images, image_decode
from official.data.imagefolder import DatasetError

CLASSES = ("cat", "dog", "wild")
COLOURS = {"cat": (220, 40, 40), "dog": (40, 220, 40), "wild": (40, 40, 220), "fox": (220, 220, 40)}


def _write(root, kind, classes, per_class=3):
    for c in classes:
        os.makedirs(os.path.join(root, kind, c), exist_ok=True)
        for i in range(per_class):
            image = np.full((64, 64, 3), 30, np.uint8)
            image[8 + 4 * i:40 + 4 * i, 16:48] = COLOURS[c]
            Image.fromarray(image).save(os.path.join(root, kind, c, f"{i}.jpg"), quality=95)


@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("imaginaire"))
    for kind in few_shot_images.FOLDERS:
        _write(os.path.join(root, "train"), kind, CLASSES)
    _write(os.path.join(root, "test"), "images_content", ("cat", "dog"), per_class=1)
    _write(os.path.join(root, "test"), "images_style", ("fox",), per_class=2)
    return root


def test_labels_follow_sorted_class_folders(fixture_root):
    paths, labels = few_shot_images.labelled_paths(os.path.join(fixture_root, "train"), "images_style")
    assert labels == [0, 0, 0, 1, 1, 1, 2, 2, 2] and paths[3].endswith(os.path.join("dog", "0.jpg"))
    assert few_shot_images.list_classes(os.path.join(fixture_root, "test")) == ["cat", "dog", "fox"]


def test_training_batches_pair_content_and_style(fixture_root):
    ds = few_shot_images.few_shot_dataset(os.path.join(fixture_root, "train"), True, 4, 68, (64, 64), seed=0)
    batch = next(iter(ds))
    assert batch["content"].shape == (4, 64, 64, 3) and batch["style"].shape == (4, 64, 64, 3)
    for key in ("content", "style"):
        x = batch[key].numpy()
        assert -1.0 <= x.min() and x.max() <= 1.0
        label = batch[f"{key}_label"].numpy()
        # the class is recoverable from the colour of the shape: its brightest channel
        assert np.array_equal(x.reshape(4, -1, 3).max(1).argmax(-1), label), (key, label)


def test_seeded_training_stream_is_reproducible(fixture_root):
    """Scale, flip and crop come from each element's seed: with 8 tf.data threads the stream equals the 1-thread
    one (stateful ops in the parallel map took their numbers in thread order)."""
    def stream(threads, seed=0):
        tf.random.set_seed(3)  # as the trainer's keras.utils.set_random_seed
        options = tf.data.Options()
        options.threading.private_threadpool_size = threads
        ds = few_shot_images.few_shot_dataset(os.path.join(fixture_root, "train"), True, 3, 68, (48, 48),
                                              max_scale=1.5, seed=seed)
        batches = ds.with_options(options).take(12).as_numpy_iterator()
        return np.concatenate([np.concatenate([b["content"], b["style"]]) for b in batches])

    serial = stream(1)
    for _ in range(2):
        np.testing.assert_array_equal(stream(8), serial)
    assert np.abs(stream(8, seed=5) - serial).max() > 0.1


def test_eval_pairs_and_bad_file(fixture_root, tmp_path):
    root = os.path.join(fixture_root, "test")
    batches = list(few_shot_images.few_shot_dataset(root, False, 8, 64, (64, 64)))
    assert len(batches) == 1
    b = batches[0]
    assert b["content_label"].numpy().tolist() == [0, 1] and b["style_label"].numpy().tolist() == [2, 2]
    bad = str(tmp_path / "bad")
    _write(bad, "images_content", ("cat",), per_class=2)
    _write(bad, "images_style", ("dog",), per_class=2)
    with open(os.path.join(bad, "images_content", "cat", "broken.jpg"), "wb") as f:
        f.write(b"not an image")
    counter = image_decode.SkipCounter()
    got = list(few_shot_images.few_shot_dataset(bad, False, 8, 64, (64, 64), counter=counter))
    assert counter.count == 1 and got[0]["content"].shape[0] == 3  # 2 readable contents + a repeat, 3 listed
    with pytest.raises(DatasetError, match="images_content/images_content: not found"):
        few_shot_images.list_classes(os.path.join(fixture_root, "train", "images_content"))

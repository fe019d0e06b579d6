"""The Cityscapes label reader (SIS) on a fixture written in the official layout, and the AST/MMIS batches."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf

from official.data import cityscapes_labels, image_decode
from official.data.imagefolder import DatasetError


def _edges(t: np.ndarray) -> np.ndarray:
    """SPADE's get_edges, written with numpy on (H, W)."""
    e = np.zeros(t.shape, bool)
    e[:, 1:] |= t[:, 1:] != t[:, :-1]
    e[:, :-1] |= t[:, 1:] != t[:, :-1]
    e[1:, :] |= t[1:, :] != t[:-1, :]
    e[:-1, :] |= t[1:, :] != t[:-1, :]
    return e.astype(np.float32)


def write_cityscapes(root: str, split: str = "train", n: int = 2, h: int = 64, w: int = 128, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    written = []
    for i in range(n):
        city = ["aachen", "bochum"][i % 2]
        stem = f"{city}_{i:06d}_000019"
        os.makedirs(os.path.join(root, "leftImg8bit", split, city), exist_ok=True)
        os.makedirs(os.path.join(root, "gtFine", split, city), exist_ok=True)
        photo = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        labels = np.repeat(np.repeat(rng.integers(0, 34, (h // 8, w // 8)), 8, 0), 8, 1).astype(np.uint8)
        instances = (labels.astype(np.uint16) * 1000 + (np.arange(w) // 32).astype(np.uint16)[None]).astype(np.uint16)
        files = {f"leftImg8bit/{split}/{city}/{stem}_leftImg8bit.png": photo,
                 f"gtFine/{split}/{city}/{stem}_gtFine_labelIds.png": labels[..., None],
                 f"gtFine/{split}/{city}/{stem}_gtFine_instanceIds.png": instances[..., None]}
        for rel, array in files.items():
            tf.io.write_file(os.path.join(root, rel), tf.io.encode_png(array))
        written.append((photo, labels, instances))
    return written


def test_reader_gives_one_hot_labels_instance_edges_and_photos(tmp_path):
    root = str(tmp_path)
    written = write_cityscapes(root)
    batch = next(iter(cityscapes_labels.cityscapes_dataset(root, "train", False, 2, (64, 128))))
    a, b = batch["a"].numpy(), batch["b"].numpy()
    assert a.shape == (2, 64, 128, 36) and b.shape == (2, 64, 128, 3)  # 35 classes + instance edges
    for i, (photo, labels, instances) in enumerate(written):  # sorted by city: aachen (0), bochum (1)
        np.testing.assert_array_equal(a[i, ..., :35].argmax(-1), labels)
        np.testing.assert_array_equal(a[i, ..., :35].sum(-1), 1.0)
        np.testing.assert_array_equal(a[i, ..., 35], _edges(instances))
        np.testing.assert_allclose(b[i], photo / 127.5 - 1.0, atol=1e-5)


def test_training_flips_photo_and_labels_together_reproducibly(tmp_path):
    """Training flips an example's photo, labels and instance edges together; the flip comes from the element's
    own seed, so 8 tf.data threads give the 1-thread stream (a stateful draw in the parallel map would not)."""
    root = str(tmp_path)
    written = write_cityscapes(root, n=8, h=64, w=128)
    photos = [p / 127.5 - 1.0 for p, _, _ in written]

    def stream(threads):
        tf.random.set_seed(3)  # as the trainer's keras.utils.set_random_seed
        options = tf.data.Options()
        options.threading.private_threadpool_size = threads
        ds = cityscapes_labels.cityscapes_dataset(root, "train", True, 2, (64, 128), seed=0).with_options(options)
        return list(ds.take(30).as_numpy_iterator())  # 4 x 32 px, 12 batches: the stateful draw matched by luck

    serial, flipped = stream(1), []
    for batch in serial:
        for a, b in zip(batch["a"], batch["b"], strict=True):
            match = [(i, f) for i, p in enumerate(photos) for f in (False, True)
                     if np.abs((p[:, ::-1] if f else p) - b).max() < 1e-5]
            assert len(match) == 1
            i, f = match[0]
            labels = written[i][1][:, ::-1] if f else written[i][1]
            np.testing.assert_array_equal(a[..., :35].argmax(-1), labels)
            flipped.append(f)
    assert 0 < sum(flipped) < len(flipped)
    parallel = stream(8)
    for s, p in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(s["b"], p["b"])


def test_missing_label_is_a_one_line_error_and_bad_files_are_counted(tmp_path):
    root = str(tmp_path)
    write_cityscapes(root, n=3)
    label = os.path.join(root, "gtFine", "train", "aachen", "aachen_000002_000019_gtFine_instanceIds.png")
    with open(label, "r+b") as f:  # a truncated download
        f.truncate(40)
    counter = image_decode.SkipCounter()
    batches = list(cityscapes_labels.cityscapes_dataset(root, "train", False, 8, (32, 64), counter=counter))
    assert batches[0]["a"].shape[0] == 2 and counter.count == 1
    os.remove(label)
    with pytest.raises(DatasetError, match="aachen_000002_000019_gtFine_instanceIds.png"):
        cityscapes_labels.list_examples(root, "train")
    with pytest.raises(DatasetError, match="leftImg8bit"):
        cityscapes_labels.list_examples(os.path.join(root, "nowhere"), "train")

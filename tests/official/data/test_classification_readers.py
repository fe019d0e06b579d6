"""Classification readers: folder and TFRecord agree, bad images are skipped and counted, bad paths named."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from official.core.config import DataConfig
from official.data import classification_input, imagefolder, tfrecord


def _write_folder(root, classes=3, per_class=4, size=40, seed=0) -> list[tuple[bytes, int]]:
    rng = np.random.default_rng(seed)
    pairs = []
    for c in range(classes):
        os.makedirs(os.path.join(root, f"n{c:08d}"), exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, size=(size, size + 8 * i, 3), dtype=np.uint8)
            buf = io.BytesIO()
            Image.fromarray(pixels).save(buf, format="JPEG", quality=90)
            with open(os.path.join(root, f"n{c:08d}", f"img{i}.JPEG"), "wb") as f:
                f.write(buf.getvalue())
            pairs.append((buf.getvalue(), c))
    return pairs


def _cfg(source, path, **kw) -> DataConfig:
    return DataConfig(source=source, path=path, image_size=32, crop_pct=0.875, **kw)


def _collect(cfg) -> list[tuple[bytes, int]]:
    ds = classification_input.build_dataset(cfg, training=False, batch_size=5)
    out = []
    for images, labels in ds:
        for img, lab in zip(images.numpy(), labels.numpy(), strict=True):
            out.append((img.tobytes(), int(lab)))
    return sorted(out)


def test_folder_and_tfrecord_give_identical_pairs(tmp_path):
    root = str(tmp_path / "train")
    pairs = _write_folder(root)
    tfrecord.write_shards(pairs, str(tmp_path / "shards" / "train-%05d-of-%05d"), num_shards=2)
    from_folder = _collect(_cfg("imagefolder", root))
    from_records = _collect(_cfg("tfrecord", str(tmp_path / "shards" / "train-*")))
    assert len(from_folder) == 12
    assert from_folder == from_records
    labels = sorted(lab for _, lab in from_folder)
    assert labels == [0] * 4 + [1] * 4 + [2] * 4


def test_labels_follow_sorted_class_folders(tmp_path):
    root = str(tmp_path / "t")
    _write_folder(root, classes=3, per_class=1)
    paths, labels, names = imagefolder.list_image_folder(root)
    assert names == ["n00000000", "n00000001", "n00000002"]
    assert [os.path.basename(os.path.dirname(p)) for p in paths] == names and labels == [0, 1, 2]


def test_truncated_and_garbage_images_are_skipped_and_counted(tmp_path):
    root = str(tmp_path / "train")
    _write_folder(root, classes=2, per_class=3)
    good = open(os.path.join(root, "n00000000", "img0.JPEG"), "rb").read()
    with open(os.path.join(root, "n00000000", "truncated.jpg"), "wb") as f:
        f.write(good[: len(good) // 2])
    with open(os.path.join(root, "n00000001", "garbage.png"), "wb") as f:
        f.write(b"this is not an image at all" * 10)
    source = classification_input.open_source(_cfg("imagefolder", root))
    assert source.num_examples == 8
    ds = classification_input.build_dataset(_cfg("imagefolder", root), False, 4, source=source)
    seen = sum(int(labels.shape[0]) for _, labels in ds)
    assert seen == 6
    assert source.skipped.count == 2


def test_missing_or_empty_paths_are_named(tmp_path):
    with pytest.raises(imagefolder.DatasetError, match="does-not-exist: image folder does not exist"):
        imagefolder.list_image_folder(str(tmp_path / "does-not-exist"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(imagefolder.DatasetError, match="no class folders"):
        imagefolder.list_image_folder(str(tmp_path / "empty"))
    (tmp_path / "noimg" / "a").mkdir(parents=True)
    with pytest.raises(imagefolder.DatasetError, match="hold no images"):
        imagefolder.list_image_folder(str(tmp_path / "noimg"))
    with pytest.raises(imagefolder.DatasetError, match="no TFRecord files match"):
        tfrecord.list_shards(str(tmp_path / "nothing-*"))


def test_eval_transform_is_resize_then_centre_crop():
    # A 40x80 image whose columns encode their index: centre crop must keep the middle columns.
    image = np.tile(np.arange(80, dtype=np.float32)[None, :, None], (40, 1, 3))
    cfg = _cfg("imagefolder", "x", interpolation="nearest")
    from official.data import image_preprocessing as ip

    out = ip.center_crop(tf.constant(image), 32, crop_pct=1.0, interpolation="nearest").numpy()
    assert out.shape == (32, 32, 3)
    # shorter side 40 -> 32 (scale 0.8), width 80 -> 64, crop columns 16..47 of the resized image
    expected_cols = np.floor((np.arange(16, 48) + 0.5) / 0.8).astype(int)
    np.testing.assert_array_equal(out[0, :, 0], expected_cols)
    normalized = ip.normalize(tf.constant(np.full((1, 1, 3), 255.0, np.float32)), cfg.mean, cfg.std).numpy()
    np.testing.assert_allclose(normalized[0, 0], (255.0 - np.array(cfg.mean)) / np.array(cfg.std), rtol=1e-6)


def test_a_seeded_training_pipeline_repeats_its_batches(tmp_path):
    """Training batches (two shuffles, random-resized crop, flip, colour jitter, parallel map) depend on
    the seed alone: every example is augmented with its own stateless seed, so thread timing changes
    nothing; another seed gives other batches, and each epoch other crops of the same files."""
    root = str(tmp_path / "train")
    _write_folder(root, classes=3, per_class=4)
    cfg = _cfg("imagefolder", root, shuffle_buffer=16, color_jitter=0.4)
    assert cfg.random_resized_crop and cfg.horizontal_flip

    def batches(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        ds = classification_input.build_dataset(cfg, True, 4, seed=seed, deterministic=True)
        return [(x.numpy(), y.numpy()) for x, y in ds.take(9)]  # three passes over the 12 images

    first, again, other = batches(7), batches(7), batches(8)
    for (a, la), (b, lb) in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    assert any(not np.array_equal(a, b) for (a, _), (b, _) in zip(first, other, strict=True))
    images = np.concatenate([x for x, _ in first])
    assert len({x.tobytes() for x in images}) == len(images), "an image came out twice with the same augmentation"

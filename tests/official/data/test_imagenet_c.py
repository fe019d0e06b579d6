"""The ImageNet-C reader on a tree in the real layout: labels by the experiment's class names, pixels per
(corruption, severity), a truncated JPEG skipped and counted, bad layouts as one-line errors."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from official.core.config import DataConfig
from official.data import imagenet_c

SIZE = 24
EXPERIMENT_CLASSES = ["n01440764", "n01443537", "n01484850"]  # the experiment's sorted class folders
TREE_CLASSES = ["n01443537", "n01484850"]  # ImageNet-C holds a subset: labels 1 and 2, not 0 and 1


def _jpeg(rng) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _write_tree(root: str) -> dict[tuple[str, int], list[tuple[np.ndarray, int]]]:
    """2 corruptions x 2 severities x 2 classes x 2 JPEGs; returns the decoded pixels and labels per cell."""
    rng = np.random.default_rng(0)
    expected: dict[tuple[str, int], list[tuple[np.ndarray, int]]] = {}
    for corruption in ("fog", "gaussian_noise"):
        for severity in (1, 3):
            cell = expected.setdefault((corruption, severity), [])
            for name in TREE_CLASSES:
                folder = os.path.join(root, corruption, str(severity), name)
                os.makedirs(folder)
                for i in range(2):
                    data = _jpeg(rng)
                    with open(os.path.join(folder, f"ILSVRC2012_val_{i:08d}.JPEG"), "wb") as f:
                        f.write(data)
                    # TF's libjpeg and PIL's round differently (a few levels): the reference uses TF's decoder.
                    pixels = tf.io.decode_jpeg(data, channels=3).numpy().astype(np.float32)
                    cell.append((pixels, EXPERIMENT_CLASSES.index(name)))
    return expected


def _eval_cfg(**kw) -> DataConfig:
    return DataConfig(path="unused", image_size=SIZE, crop_pct=0.875, **kw)


def _read(root, corruption, severity, **kw):
    ds, source = imagenet_c.corruption_dataset(root, corruption, severity, _eval_cfg(), EXPERIMENT_CLASSES, 3, **kw)
    images, labels = [], []
    for x, y in ds:
        images.extend(x.numpy())
        labels.extend(y.numpy().tolist())
    return np.stack(images), labels, source


def test_listing_labels_and_pixels(tmp_path):
    root = str(tmp_path / "imagenet-c")
    expected = _write_tree(root)
    with open(os.path.join(root, "README.txt"), "w") as f:
        f.write("files beside the corruption folders are ignored")
    assert imagenet_c.list_corruptions(root) == {"fog": [1, 3], "gaussian_noise": [1, 3]}
    cfg = _eval_cfg()
    for (corruption, severity), cell in expected.items():
        images, labels, source = _read(root, corruption, severity)
        assert source.num_examples == 4 and source.skipped.count == 0
        assert labels == [label for _, label in cell] == [1, 1, 2, 2]
        # crop_pct 1: same-size images reach the model untouched, only normalised.
        want = np.stack([(p - np.array(cfg.mean)) / np.array(cfg.std) for p, _ in cell])
        np.testing.assert_allclose(images, want, atol=1e-4)
    # The experiment's own crop_pct (0.875) resizes and crops again: different pixels.
    images, _, _ = _read(root, "fog", 1, crop_pct=None)
    assert np.abs(images - _read(root, "fog", 1)[0]).max() > 0.1


def test_truncated_jpeg_is_skipped_and_counted(tmp_path):
    root = str(tmp_path / "c")
    _write_tree(root)
    path = os.path.join(root, "fog", "3", TREE_CLASSES[1], "ILSVRC2012_val_00000000.JPEG")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    images, labels, source = _read(root, "fog", 3)
    assert source.num_examples == 4 and source.skipped.count == 1
    assert labels == [1, 1, 2] and len(images) == 3


def test_layout_errors_name_the_path(tmp_path):
    root = str(tmp_path / "c")
    _write_tree(root)
    missing = str(tmp_path / "nope")
    with pytest.raises(imagenet_c.ImageNetCError, match=f"^{missing}: ImageNet-C folder does not exist$"):
        imagenet_c.list_corruptions(missing)
    with pytest.raises(imagenet_c.ImageNetCError, match="fog/5: no such ImageNet-C folder"):
        imagenet_c.corruption_dataset(root, "fog", 5, _eval_cfg(), EXPERIMENT_CLASSES, 2)
    stray = os.path.join(root, "fog", "3", "n09999999")
    os.makedirs(stray)
    Image.new("RGB", (SIZE, SIZE)).save(os.path.join(stray, "a.JPEG"))
    with pytest.raises(imagenet_c.ImageNetCError) as err:
        imagenet_c.corruption_source(root, "fog", 3, EXPERIMENT_CLASSES)
    assert str(err.value).startswith(f"{stray}: class folder 'n09999999' is not one of the experiment's 3 classes")
    os.makedirs(os.path.join(root, "gaussian_noise", "severity_2"))
    with pytest.raises(imagenet_c.ImageNetCError) as err:
        imagenet_c.list_corruptions(root)
    message = str(err.value)
    assert message == f"{os.path.join(root, 'gaussian_noise', 'severity_2')}: severity folder must be named 1..5, got 'severity_2'"
    assert "\n" not in message
    from official.core.errors import UserError

    assert isinstance(err.value, UserError)

"""CIFAR python-version pickles: CHW rows land in HWC, fine vs coarse labels, bad files named, the pipeline."""

from __future__ import annotations

import dataclasses
import os
import pickle

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from official.core.config import DataConfig, ExperimentConfig, TaskConfig, TrainerConfig
from official.data import cifar, cifar_augment, classification_input, imagefolder
from official.tasks.classification_experiments import DATASETS, classification_experiment
from official.tasks.image_classification import ImageClassificationTask

PLANE = 32 * 32


def _rows(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3 * PLANE), dtype=np.uint8)


def _dump(obj, path, protocol=2) -> None:
    # Protocol 2 like the official files (pickled by Python 2 cPickle, read back with encoding="bytes").
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def _cifar10(root, sizes=(6, 4), test=5) -> str:
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder)
    for b, n in enumerate(sizes, start=1):
        data = _rows(n, b)
        _dump({b"batch_label": f"training batch {b} of 5".encode(), b"labels": [(b * 3 + i) % 10 for i in range(n)],
               b"data": data, b"filenames": [f"img_{b}_{i}.png".encode() for i in range(n)]},
              os.path.join(folder, f"data_batch_{b}"))
    _dump({b"batch_label": b"testing batch 1 of 1", b"labels": list(range(test)), b"data": _rows(test, 99),
           b"filenames": [b"t.png"] * test}, os.path.join(folder, "test_batch"))
    _dump({b"num_cases_per_batch": 10000, b"label_names": [f"c10_{i}".encode() for i in range(10)], b"num_vis": 3072},
          os.path.join(folder, "batches.meta"))
    return folder


def _cifar100(root, n=40) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    folder = os.path.join(root, "cifar-100-python")
    os.makedirs(folder)
    data = _rows(n, 7)
    fine = np.arange(n) % 20
    coarse = fine // 4  # superclasses 0..4: differ from the fine labels for all but fine 0
    _dump({b"filenames": [f"f{i}.png".encode() for i in range(n)], b"batch_label": b"training batch 1 of 1",
           b"fine_labels": fine.tolist(), b"coarse_labels": coarse.tolist(), b"data": data},
          os.path.join(folder, "train"), protocol=pickle.HIGHEST_PROTOCOL)
    _dump({b"fine_label_names": [f"fine_{i}".encode() for i in range(100)],
           b"coarse_label_names": [f"coarse_{i}".encode() for i in range(20)]}, os.path.join(folder, "meta"))
    return folder, data, fine, coarse


def test_chw_rows_land_in_hwc_positions(tmp_path):
    folder = os.path.join(tmp_path, "cifar-10-batches-py")
    os.makedirs(folder)
    data = np.zeros((2, 3 * PLANE), np.uint8)
    r, c = 3, 5
    data[1, 0 * PLANE + r * 32 + c] = 200  # R plane
    data[1, 1 * PLANE + r * 32 + c] = 100  # G plane
    data[1, 2 * PLANE + r * 32 + c] = 50  # B plane
    data[1, 0 * PLANE + 31 * 32 + 0] = 7  # R at (row 31, col 0): row-major planes, not column-major
    _dump({b"data": data, b"labels": [0, 1], b"filenames": [b"a", b"b"], b"batch_label": b"x"},
          os.path.join(folder, "data_batch_1"))
    images, labels, names = cifar.read_batches(os.path.join(folder, "data_batch_1"))
    assert images.shape == (2, 32, 32, 3) and images.dtype == np.uint8
    assert images[1, r, c].tolist() == [200, 100, 50]
    assert images[1, 31, 0].tolist() == [7, 0, 0]
    assert int(images.sum()) == 357 and labels.dtype == np.int64 and labels.tolist() == [0, 1]
    assert names is None  # no batches.meta beside the batch


def test_cifar10_glob_reads_batches_in_order_with_class_names(tmp_path):
    folder = _cifar10(str(tmp_path))
    images, labels, names = cifar.read_batches(os.path.join(folder, "data_batch_*"))
    expected = np.concatenate([_rows(6, 1), _rows(4, 2)]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(images, expected)
    assert labels.tolist() == [(3 + i) % 10 for i in range(6)] + [(6 + i) % 10 for i in range(4)]
    assert names == [f"c10_{i}" for i in range(10)]


def test_cifar100_fine_and_coarse_labels_and_names(tmp_path):
    folder, data, fine, coarse = _cifar100(str(tmp_path))
    images, labels, names = cifar.read_batches(os.path.join(folder, "train"))
    assert labels.tolist() == fine.tolist() and len(names) == 100 and names[19] == "fine_19"
    np.testing.assert_array_equal(images[10, :, :, 2], data[10, 2 * PLANE:].reshape(32, 32))
    images_c, labels_c, names_c = cifar.read_batches(os.path.join(folder, "train"), label_key="coarse")
    assert labels_c.tolist() == coarse.tolist() and names_c == [f"coarse_{i}" for i in range(20)]
    np.testing.assert_array_equal(images, images_c)


def test_out_of_range_labels_are_skipped_and_counted(tmp_path, caplog):
    folder = os.path.join(tmp_path, "cifar-10-batches-py")
    os.makedirs(folder)
    data = _rows(5, 3)
    _dump({b"data": data, b"labels": [0, 10, 9, -1, 2]}, os.path.join(folder, "data_batch_1"))
    _dump({b"label_names": [f"n{i}".encode() for i in range(10)]}, os.path.join(folder, "batches.meta"))
    counter = classification_input.image_decode.SkipCounter()
    images, labels, _ = cifar.read_batches(os.path.join(folder, "data_batch_1"), skipped=counter)
    assert labels.tolist() == [0, 9, 2] and counter.count == 2
    np.testing.assert_array_equal(images[1], data[2].reshape(3, 32, 32).transpose(1, 2, 0))
    assert "skipped 2 of 5 records" in caplog.text


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "does not exist"),
        (b"not a pickle at all", "not a CIFAR python-version pickle"),
        ({b"labels": [0]}, "no key b'data'"),
        ({b"data": np.zeros((1, 3072), np.uint8)}, "no key b'labels'"),
        ({b"data": np.zeros((2, 1024), np.uint8), b"labels": [0, 1]}, "key b'data' has shape (2, 1024)"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "1 labels for 2 rows"),
        ([1, 2, 3], "expected a pickled dict"),
    ],
)
def test_bad_files_are_one_line_errors_naming_file_and_key(tmp_path, content, message):
    path = os.path.join(tmp_path, "data_batch_1")
    if isinstance(content, bytes):
        open(path, "wb").write(content)
    elif content is not None:
        _dump(content, path)
    with pytest.raises(imagefolder.DatasetError) as err:
        cifar.read_batches(path)
    text = str(err.value)
    assert text.startswith(path) and message in text and "\n" not in text


def test_coarse_key_missing_and_empty_glob_are_named(tmp_path):
    folder = _cifar10(str(tmp_path))
    with pytest.raises(imagefolder.DatasetError, match="data_batch_1: no key b'coarse_labels'"):
        cifar.read_batches(os.path.join(folder, "data_batch_*"), label_key="coarse")
    with pytest.raises(imagefolder.DatasetError, match="nothing_\\*: no CIFAR batch files match"):
        cifar.read_batches(os.path.join(folder, "nothing_*"))


def _py2_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """The byte stream Python 2 cPickle (protocol 2) writes for {"data": uint8 array, "labels": [...]}, as in
    the official files: str values as BINSTRING opcodes (bytes under encoding="bytes"), numpy.core globals."""
    import struct

    def s(x: bytes) -> bytes:  # SHORT_BINSTRING or BINSTRING
        return b"U" + bytes([len(x)]) + x if len(x) < 256 else b"T" + struct.pack("<i", len(x)) + x

    def k(i: int) -> bytes:  # BININT1 / BININT2 / BININT
        return b"K" + bytes([i]) if 0 <= i < 256 else b"M" + struct.pack("<H", i) if 0 <= i < 65536 else b"J" + struct.pack("<i", i)

    dtype = b"cnumpy\ndtype\n" + s(b"u1") + k(0) + k(1) + b"\x87R(" + k(3) + s(b"|") + b"NNN" + k(-1) + k(-1) + k(0) + b"tb"
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + k(0) + b"\x85" + s(b"b") + b"\x87R("
             + k(1) + k(data.shape[0]) + k(data.shape[1]) + b"\x86" + dtype + b"\x89" + s(data.tobytes()) + b"tb")
    items = s(b"data") + array + s(b"labels") + b"](" + b"".join(k(v) for v in labels) + b"e"
    return b"\x80\x02}(" + items + b"u."


def test_python2_pickles_of_the_official_files_are_read(tmp_path):
    data = _rows(3, 11)
    path = os.path.join(tmp_path, "data_batch_1")
    open(path, "wb").write(_py2_pickle(data, [4, 0, 9]))
    images, labels, _ = cifar.read_batches(path)
    assert labels.tolist() == [4, 0, 9]
    np.testing.assert_array_equal(images, data.reshape(3, 3, 32, 32).transpose(0, 2, 3, 1))


def test_pickles_that_name_other_globals_are_refused(tmp_path):
    path = os.path.join(tmp_path, "test_batch")
    _dump({b"data": os.getcwd, b"labels": []}, path)  # a function reference: a code-running pickle
    with pytest.raises(imagefolder.DatasetError, match="refuses global"):
        cifar.read_batches(path)


def _cfg(path, source="cifar", **kw) -> DataConfig:
    return DataConfig(source=source, path=path, image_size=32, crop_pct=1.0, **kw)


def test_pipeline_matches_the_same_images_as_an_image_folder(tmp_path):
    folder = _cifar10(str(tmp_path))
    images, labels, _ = cifar.read_batches(os.path.join(folder, "test_batch"))
    root = tmp_path / "as_folder"
    for i, (img, lab) in enumerate(zip(images, labels, strict=True)):
        os.makedirs(root / f"c{lab}", exist_ok=True)
        Image.fromarray(img).save(root / f"c{lab}" / f"{i}.png")

    def collect(cfg):
        ds = classification_input.build_dataset(cfg, training=False, batch_size=2)
        return sorted((x.tobytes(), int(y)) for xs, ys in ds for x, y in zip(xs.numpy(), ys.numpy(), strict=True))

    from_cifar = collect(_cfg(os.path.join(folder, "test_batch")))
    assert len(from_cifar) == 5
    assert from_cifar == collect(_cfg(str(root), source="imagefolder"))
    # Training: image i has label i, so the folder lists files in CIFAR order; the same seed then gives the
    # same shuffle and the same random-resized crops and flips (preprocess_train) from both sources.
    def train(cfg):
        ds = classification_input.build_dataset(cfg, training=True, batch_size=4, seed=5, deterministic=True)
        return [(x.numpy(), y.numpy()) for x, y in ds.take(3)]

    for (xc, yc), (xf, yf) in zip(train(_cfg(os.path.join(folder, "test_batch"))),
                                  train(_cfg(str(root), source="imagefolder")), strict=True):
        np.testing.assert_array_equal(yc, yf)
        np.testing.assert_allclose(xc, xf, atol=1e-5)


def test_pipeline_train_and_eval_batches(tmp_path):
    folder, data, fine, coarse = _cifar100(str(tmp_path))
    path = os.path.join(folder, "train")
    source = classification_input.open_source(_cfg(path))
    assert source.num_examples == 40 and len(source.class_names) == 100
    cfg = _cfg(path, random_resized_crop=False, horizontal_flip=False)
    xs, ys = next(iter(classification_input.build_dataset(cfg, training=False, batch_size=40)))
    hwc = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float32)
    np.testing.assert_allclose(xs.numpy(), (hwc - np.array(cfg.mean)) / np.array(cfg.std), atol=1e-4)
    assert ys.dtype == tf.int32 and ys.numpy().tolist() == fine.tolist()
    # Training: shuffled, augmented by preprocess_train, repeated; same shapes and dtypes as other sources.
    train = classification_input.build_dataset(_cfg(path), training=True, batch_size=16, seed=3, deterministic=True)
    batches = list(train.take(3))
    assert all(b[0].shape == (16, 32, 32, 3) and b[0].dtype == tf.float32 for b in batches)
    assert sorted(np.concatenate([b[1].numpy() for b in batches[:2]]).tolist()) != list(range(32))
    assert set(np.concatenate([b[1].numpy() for b in batches]).tolist()) <= set(range(20))
    coarse_ds = classification_input.build_dataset(_cfg(path, source="cifar_coarse"), training=False, batch_size=40)
    assert next(iter(coarse_ds))[1].numpy().tolist() == coarse.tolist()


def test_image_classification_task_reads_cifar_unchanged(tmp_path):
    folder, _, fine, _ = _cifar100(str(tmp_path))
    data = _cfg(os.path.join(folder, "train"))
    config = ExperimentConfig(task=TaskConfig(name="image_classification", num_classes=100), train_data=data,
                              eval_data=dataclasses.replace(data, random_resized_crop=False))
    task = ImageClassificationTask(config)
    assert task.num_examples(data) == 40
    images, labels = next(iter(task.build_inputs(config.eval_data, False, 8)))
    assert images.shape == (8, 32, 32, 3) and labels.numpy().tolist() == fine[:8].tolist()
    # Export verification reads encoded bytes: the CIFAR source provides them as PNG.
    labels = task.verification_labels(4, 32)
    assert len(labels) == 4 and set(labels.tolist()) <= set(range(20))
    wrong = ImageClassificationTask(dataclasses.replace(config, task=TaskConfig(num_classes=20)))
    with pytest.raises(imagefolder.DatasetError, match="100 class folders, but task.num_classes is 20"):
        wrong.build_inputs(config.eval_data, False, 8)


def test_cifar_experiments_and_pad_crop(tmp_path):
    cfg = classification_experiment("mobilenext_035", "cifar100", trainer=TrainerConfig())
    assert (cfg.task.num_classes, cfg.train_data.source, cfg.eval_data.path) == (100, "cifar", "cifar100/cifar-100-python/test")
    assert DATASETS["cifar10"][0]("train", True).path == "cifar10/cifar-10-batches-py/data_batch_*"
    image = tf.reshape(tf.range(32 * 32 * 3, dtype=tf.float32), [32, 32, 3])
    seed = tf.constant([1, 2], tf.int64)
    out = cifar_augment.pad_and_random_crop(image, 4, seed)
    np.testing.assert_array_equal(out, cifar_augment.pad_and_random_crop(image, 4, seed))
    padded = np.pad(image.numpy(), [[4, 4], [4, 4], [0, 0]])
    shifts = [(dy, dx) for dy in range(9) for dx in range(9) if np.array_equal(padded[dy:dy + 32, dx:dx + 32], out)]
    assert len(shifts) == 1 and out.shape == (32, 32, 3)


def test_cifar_training_crop_is_a_pad_4_shift():
    """cifar10/cifar100 training data: a zero-filled shift of at most 4 px (not a zoom), varying with the seed."""
    from official.data import image_preprocessing
    from official.tasks.classification_experiments import cifar10_data

    cfg = dataclasses.replace(cifar10_data("train", training=True), horizontal_flip=False, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    assert cfg.pad_crop == 4 and not cfg.random_resized_crop
    image = (np.arange(32 * 32 * 3).reshape(32, 32, 3) % 251 + 1).astype(np.uint8)
    padded = np.pad(image.astype(np.float32), ((4, 4), (4, 4), (0, 0)))
    shifts = set()
    for s in range(12):
        out = image_preprocessing.preprocess_train(tf.constant(image), cfg, tf.constant([s, 7], tf.int64)).numpy()
        match = [(dy, dx) for dy in range(9) for dx in range(9) if np.array_equal(out, padded[dy : dy + 32, dx : dx + 32])]
        assert len(match) == 1
        shifts.add(match[0])
    assert len(shifts) > 3

"""Listers of the five fine-grained retrieval datasets in their official on-disk layouts.

`data.path` is the dataset root followed by a split name that is not a folder, e.g.
`CUB_200_2011/train` or `fgvc-aircraft-2013b/trainval`; `list_split(source, path)` returns
(paths, labels, class_names) for the shared image-file pipeline (`imagefolder.file_examples`).

- cub (CUB-200-2011; splits train, test): `images.txt` (image_id relative_path), `image_class_labels.txt`
  (image_id class_id), `train_test_split.txt` (image_id is_training_image), `classes.txt` (class_id name),
  images under `images/`.
- nabirds (NABirds; train, test): the same three files and `classes.txt` (ids are not contiguous; only
  the ids used by images become classes), images under `images/`.
  For both: label = position of the class id among the sorted ids used in image_class_labels.txt (CUB:
  id - 1).
- aircraft (FGVC-Aircraft 2013b; train, val, trainval, test): `data/images_variant_<split>.txt`
  (image_id variant name, the name may hold spaces), `data/variants.txt` (class order), images
  `data/images/<image_id>.jpg`.
- cars (Stanford Cars; train, test): `devkit/cars_<split>_annos.mat` (struct array `annotations` with fields
  bbox_x1..bbox_y2, class (1-based), fname); test labels come from `cars_test_annos_withlabels.mat`
  (root or devkit/) when present; `devkit/cars_meta.mat` (`class_names`); images under `cars_<split>/`.
- food101 (Food-101; train, test): `meta/<split>.txt` (class/image_id), `meta/classes.txt`, images
  `images/<class>/<image_id>.jpg`.

A missing file or folder, or a .mat without a needed field, is a `DatasetError` naming the file and the
field. Lines with a wrong field count, an unknown id or class, or a missing image are counted, skipped and
summarised in one warning (and added to the pipeline's SkipCounter).
"""

from __future__ import annotations

import logging
import os
from collections import Counter

from official.data.image_decode import SkipCounter
from official.data.imagefolder import DatasetError

log = logging.getLogger(__name__)

SPLITS = {
    "cub": ("train", "test"),
    "nabirds": ("train", "test"),
    "aircraft": ("train", "val", "trainval", "test"),
    "cars": ("train", "test"),
    "food101": ("train", "test"),
}
SOURCES = tuple(SPLITS)


def _require(path: str, what: str) -> str:
    if not os.path.exists(path):
        raise DatasetError(f"{path}: {what} does not exist")
    return path


def _lines(path: str, what: str) -> list[str]:
    with open(_require(path, what), encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()]


def _id_table(path: str, what: str, bad: Counter) -> dict[str, str]:
    """{first field: second field} of a two-column txt file; lines with another shape are counted."""
    table = {}
    for line in _lines(path, what):
        fields = line.split()
        if len(fields) != 2:
            bad[f"{os.path.basename(path)} field count"] += 1
            continue
        table[fields[0]] = fields[1]
    return table


def _finish(paths, labels, names, bad: Counter, where: str, skipped: SkipCounter | None):
    total = sum(bad.values())
    if total:
        detail = ", ".join(f"{n} {why}" for why, n in sorted(bad.items()))
        log.warning("%s: skipped %d record(s) (%s)", where, total, detail)
        if skipped is not None:
            for _ in range(total):
                skipped.increment()
    if not paths:
        raise DatasetError(f"{where}: no images listed")
    return paths, labels, names


def _list_cub_like(root: str, split: str, skipped: SkipCounter | None):
    """CUB-200-2011 and NABirds: images.txt + image_class_labels.txt + train_test_split.txt."""
    bad: Counter = Counter()
    images = _id_table(os.path.join(root, "images.txt"), "image list (image_id path)", bad)
    classes = _id_table(os.path.join(root, "image_class_labels.txt"), "class labels (image_id class_id)", bad)
    is_train = _id_table(os.path.join(root, "train_test_split.txt"), "split (image_id is_training_image)", bad)
    names_path = os.path.join(root, "classes.txt")
    class_names = {}
    if os.path.isfile(names_path):
        for line in _lines(names_path, "class names"):
            key, _, name = line.partition(" ")
            class_names[key] = name.strip()
    used = sorted({c for c in classes.values() if c.isdigit()}, key=int)
    index = {c: i for i, c in enumerate(used)}
    want = "1" if split == "train" else "0"
    paths, labels = [], []
    for image_id, rel in images.items():
        flag = is_train.get(image_id)
        if flag not in ("0", "1"):
            bad["no split flag"] += 1
            continue
        if flag != want:
            continue
        if classes.get(image_id) not in index:
            bad["no class"] += 1
            continue
        path = os.path.join(root, "images", rel)
        if not os.path.isfile(path):
            bad["missing image"] += 1
            continue
        paths.append(path)
        labels.append(index[classes[image_id]])
    names = [class_names.get(c, c) for c in used]
    return _finish(paths, labels, names, bad, os.path.join(root, "images.txt"), skipped)


def _list_aircraft(root: str, split: str, skipped: SkipCounter | None):
    data = os.path.join(root, "data")
    variants = _lines(os.path.join(data, "variants.txt"), "variant list")
    index = {v.strip(): i for i, v in enumerate(variants)}
    listing = os.path.join(data, f"images_variant_{split}.txt")
    bad: Counter = Counter()
    paths, labels = [], []
    for line in _lines(listing, f"{split} list (image_id variant)"):
        image_id, _, variant = line.partition(" ")
        if not variant.strip():
            bad["field count"] += 1
            continue
        if variant.strip() not in index:
            bad["unknown variant"] += 1
            continue
        path = os.path.join(data, "images", f"{image_id}.jpg")
        if not os.path.isfile(path):
            bad["missing image"] += 1
            continue
        paths.append(path)
        labels.append(index[variant.strip()])
    return _finish(paths, labels, [v.strip() for v in variants], bad, listing, skipped)


def _mat_field(record, field: str, path: str):
    if not hasattr(record, field):
        raise DatasetError(f"{path}: field '{field}' missing from the annotations")
    return getattr(record, field)


def _list_cars(root: str, split: str, skipped: SkipCounter | None):
    import numpy as np
    import scipy.io

    devkit = os.path.join(root, "devkit")
    annos = os.path.join(devkit, f"cars_{split}_annos.mat")
    if split == "test":
        for candidate in (os.path.join(root, "cars_test_annos_withlabels.mat"),
                          os.path.join(devkit, "cars_test_annos_withlabels.mat")):
            if os.path.isfile(candidate):
                annos = candidate
                break
    meta = scipy.io.loadmat(_require(os.path.join(devkit, "cars_meta.mat"), "class names"), squeeze_me=True)
    if "class_names" not in meta:
        raise DatasetError(f"{os.path.join(devkit, 'cars_meta.mat')}: field 'class_names' missing")
    names = [str(n) for n in np.atleast_1d(meta["class_names"])]
    mat = scipy.io.loadmat(_require(annos, f"{split} annotations"), squeeze_me=True, struct_as_record=False)
    if "annotations" not in mat:
        raise DatasetError(f"{annos}: field 'annotations' missing")
    records = np.atleast_1d(mat["annotations"])
    bad: Counter = Counter()
    paths, labels = [], []
    folder = os.path.join(root, f"cars_{split}")
    for record in records:
        fname = str(_mat_field(record, "fname", annos))
        label = int(_mat_field(record, "class", annos)) - 1
        if not 0 <= label < len(names):
            bad["class out of range"] += 1
            continue
        path = os.path.join(folder, fname)
        if not os.path.isfile(path):
            bad["missing image"] += 1
            continue
        paths.append(path)
        labels.append(label)
    return _finish(paths, labels, names, bad, annos, skipped)


def _list_food101(root: str, split: str, skipped: SkipCounter | None):
    meta = os.path.join(root, "meta")
    names = [n.strip() for n in _lines(os.path.join(meta, "classes.txt"), "class list")]
    index = {n: i for i, n in enumerate(names)}
    listing = os.path.join(meta, f"{split}.txt")
    bad: Counter = Counter()
    paths, labels = [], []
    for line in _lines(listing, f"{split} list (class/image_id)"):
        cls, sep, _ = line.strip().partition("/")
        if not sep:
            bad["field count"] += 1
            continue
        if cls not in index:
            bad["unknown class"] += 1
            continue
        path = os.path.join(root, "images", f"{line.strip()}.jpg")
        if not os.path.isfile(path):
            bad["missing image"] += 1
            continue
        paths.append(path)
        labels.append(index[cls])
    return _finish(paths, labels, names, bad, listing, skipped)


_LISTERS = {"cub": _list_cub_like, "nabirds": _list_cub_like, "aircraft": _list_aircraft, "cars": _list_cars,
            "food101": _list_food101}


def split_path(source: str, path: str) -> tuple[str, str]:
    """(root, split) of `ROOT/<split>`; the split must be one of the dataset's."""
    path = os.path.normpath(path)
    root, split = os.path.dirname(path), os.path.basename(path)
    if split not in SPLITS[source]:
        raise DatasetError(f"{path}: data.path must be the {source} root followed by a split name "
                           f"({' | '.join(SPLITS[source])}), e.g. ROOT/{SPLITS[source][0]}")
    if not os.path.isdir(root):
        raise DatasetError(f"{root}: {source} dataset root does not exist")
    return root, split


def list_split(source: str, path: str, skipped: SkipCounter | None = None) -> tuple[list[str], list[int], list[str]]:
    """(paths, labels, class_names) of `source` (cub | nabirds | aircraft | cars | food101) at ROOT/<split>."""
    if source not in _LISTERS:
        raise DatasetError(f"data.source: expected one of {', '.join(SOURCES)}, got {source!r}")
    root, split = split_path(source, path)
    return _LISTERS[source](root, split, skipped)

"""Tiny ImageNet 200 in the layout of the official zip (`tiny-imagenet-200/`).

  wnids.txt                              the 200 WordNet ids, one a line
  train/<wnid>/images/<wnid>_<i>.JPEG    500 images per class (train/<wnid>/<wnid>_boxes.txt is ignored)
  val/images/val_<i>.JPEG                10,000 images, labelled by
  val/val_annotations.txt                tab-separated: file, wnid, x0, y0, x1, y1

`data.path` names the split folder (`tiny-imagenet-200/train` or `tiny-imagenet-200/val`); wnids.txt is
read beside it. A class index is the position of its wnid in sorted wnids.txt: the ARPL open-set code
reads both splits with torchvision's ImageFolder (val rearranged into class folders), whose classes are
the sorted folder names, so its split lists index sorted wnids. The reader returns (paths, labels) for
the shared image-file pipeline (`imagefolder.file_examples`). A missing wnids.txt, split folder, class
folder or annotations file is a `DatasetError` naming it; annotation lines with a field count other
than 6, an unknown wnid or a missing image are counted, skipped and summarised in one warning.
"""

from __future__ import annotations

import logging
import os

from official.data.image_decode import SkipCounter
from official.data.imagefolder import IMAGE_EXTENSIONS, DatasetError

log = logging.getLogger(__name__)

SPLITS = ("train", "val")
ANNOTATION_FIELDS = 6


def read_wnids(root: str) -> list[str]:
    """The sorted wnids of ROOT/wnids.txt (their positions are the class indices)."""
    path = os.path.join(root, "wnids.txt")
    if not os.path.isfile(path):
        raise DatasetError(f"{path}: Tiny ImageNet class list does not exist")
    with open(path, encoding="utf-8") as f:
        wnids = sorted({line.strip() for line in f if line.strip()})
    if not wnids:
        raise DatasetError(f"{path}: no wnids (expected one WordNet id a line)")
    return wnids


def _train_files(split_dir: str, wnids: list[str]) -> tuple[list[str], list[int]]:
    paths, labels = [], []
    for label, wnid in enumerate(wnids):
        folder = os.path.join(split_dir, wnid, "images")
        if not os.path.isdir(folder):
            raise DatasetError(f"{folder}: class folder of wnid {wnid} does not exist")
        names = sorted(f for f in os.listdir(folder) if f.endswith(IMAGE_EXTENSIONS))
        paths += [os.path.join(folder, f) for f in names]
        labels += [label] * len(names)
    return paths, labels


def _val_files(split_dir: str, wnids: list[str]) -> tuple[list[str], list[int], int]:
    path = os.path.join(split_dir, "val_annotations.txt")
    if not os.path.isfile(path):
        raise DatasetError(f"{path}: Tiny ImageNet val annotations do not exist")
    index = {w: i for i, w in enumerate(wnids)}
    paths, labels, bad = [], [], {"field count": 0, "unknown wnid": 0, "missing image": 0}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) != ANNOTATION_FIELDS:
                bad["field count"] += 1
                continue
            if fields[1] not in index:
                bad["unknown wnid"] += 1
                continue
            image = os.path.join(split_dir, "images", fields[0])
            if not os.path.isfile(image):
                bad["missing image"] += 1
                continue
            paths.append(image)
            labels.append(index[fields[1]])
    skipped = sum(bad.values())
    if skipped:
        detail = ", ".join(f"{n} {why}" for why, n in bad.items() if n)
        log.warning("%s: skipped %d annotation line(s) (%s)", path, skipped, detail)
    return paths, labels, skipped


def list_tinyimagenet(split_dir: str, skipped: SkipCounter | None = None) -> tuple[list[str], list[int], list[str]]:
    """(paths, labels, wnids) of `tiny-imagenet-200/train` or `tiny-imagenet-200/val`."""
    split_dir = os.path.normpath(split_dir)
    split = os.path.basename(split_dir)
    if split not in SPLITS:
        raise DatasetError(f"{split_dir}: data.path must name a split folder (tiny-imagenet-200/train or /val)")
    if not os.path.isdir(split_dir):
        raise DatasetError(f"{split_dir}: Tiny ImageNet split folder does not exist")
    wnids = read_wnids(os.path.dirname(split_dir))
    if split == "train":
        paths, labels = _train_files(split_dir, wnids)
        bad = 0
    else:
        paths, labels, bad = _val_files(split_dir, wnids)
    if skipped is not None:
        for _ in range(bad):
            skipped.increment()
    if not paths:
        raise DatasetError(f"{split_dir}: no images listed")
    return paths, labels, wnids

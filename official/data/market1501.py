"""Market-1501 layout reader (also DukeMTMC-reID, CUHK03-NP, Occluded-Duke, which share it).

A dataset root holds `bounding_box_train/` (training), `query/` and `bounding_box_test/` (gallery) with
JPEG names `PPPP_cCsS_FFFFFF_NN.jpg` (Duke: `PPPP_cC_fFFFFFFF.jpg`). As in the re-ID codebases
(reid-strong-baseline / ISP-reID `data/datasets/market1501.py`), the regex `([-\\d]+)_c(\\d)` gives the
person id and camera: pid -1 marks junk images, which are skipped (counted); pid 0 marks distractors,
kept (in the gallery they are never a match); cameras are 1-based on disk and 0-based here. Training
identities are relabelled 0..N-1 in ascending pid order. Files whose name does not parse, or that are
not complete JPEG/PNG files (checked by their first and last bytes), are counted and skipped with a
one-line summary; a missing root or split folder is a one-line error naming it.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import re

import numpy as np

from official.data.imagefolder import DatasetError

log = logging.getLogger(__name__)

SPLITS = {"train": "bounding_box_train", "query": "query", "gallery": "bounding_box_test"}
PATTERN = re.compile(r"([-\d]+)_c(\d)")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
JUNK_PID = -1


@dataclasses.dataclass
class ReidSplit:
    """One split: image paths with their (relabelled, for training) pids and 0-based camera ids."""

    paths: list[str]
    pids: np.ndarray  # int64 (num_images,)
    camids: np.ndarray  # int64 (num_images,), 0-based
    skipped: dict[str, int]  # reason -> count
    original_pids: np.ndarray  # pids as written in the file names

    @property
    def num_pids(self) -> int:
        return len(np.unique(self.pids))

    def __len__(self) -> int:
        return len(self.paths)


def split_dir(root: str, split: str) -> str:
    """The folder of `split` (train | query | gallery) under `root`, or a DatasetError naming it."""
    if split not in SPLITS:
        raise DatasetError(f"split: expected one of {', '.join(SPLITS)}, got {split!r}")
    if not os.path.isdir(root):
        raise DatasetError(f"{root}: Market-1501 root folder does not exist")
    folder = os.path.join(root, SPLITS[split])
    if not os.path.isdir(folder):
        raise DatasetError(f"{folder}: missing (a Market-1501 root holds {', '.join(SPLITS.values())})")
    return folder


def parse_name(name: str) -> tuple[int, int] | None:
    """(pid, 1-based camid) of a file name, or None when it does not follow the layout."""
    match = PATTERN.search(name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def looks_complete(path: str) -> bool:
    """A JPEG starting FFD8 with an FFD9 end marker in its last bytes, or a PNG with its IEND chunk."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            f.seek(0, os.SEEK_END)
            f.seek(max(f.tell() - 64, 0))
            tail = f.read()
    except OSError:
        return False
    if head[:2] == b"\xff\xd8":
        return b"\xff\xd9" in tail
    return head == b"\x89PNG\r\n\x1a\n" and b"IEND" in tail


def list_split(root: str, split: str, relabel: bool | None = None, check_images: bool = True) -> ReidSplit:
    """Lists `split` of the dataset at `root`, sorted by file name; `relabel` defaults to split == "train"."""
    folder = split_dir(root, split)
    relabel = split == "train" if relabel is None else relabel
    skipped: collections.Counter[str] = collections.Counter()
    rows = []
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith(IMAGE_EXTENSIONS):
            continue
        parsed = parse_name(name)
        if parsed is None:
            skipped["name without pid_cN"] += 1
            continue
        pid, cam = parsed
        if pid == JUNK_PID:
            skipped["junk (pid -1)"] += 1
            continue
        if pid < 0 or cam < 1:
            skipped["pid < -1 or camera 0"] += 1
            continue
        path = os.path.join(folder, name)
        if check_images and not looks_complete(path):
            skipped["unreadable image"] += 1
            continue
        rows.append((path, pid, cam - 1))
    if skipped:
        summary = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
        log.warning("%s: skipped %d file(s): %s", folder, sum(skipped.values()), summary)
    if not rows:
        raise DatasetError(f"{folder}: no image named PPPP_cC...jpg with pid >= 0")
    paths = [r[0] for r in rows]
    original = np.array([r[1] for r in rows], np.int64)
    camids = np.array([r[2] for r in rows], np.int64)
    pids = np.searchsorted(np.unique(original), original).astype(np.int64) if relabel else original.copy()
    return ReidSplit(paths, pids, camids, dict(skipped), original)

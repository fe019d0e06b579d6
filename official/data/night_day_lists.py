"""ForkGAN's night (domain A) / day (domain B) splits read from the datasets' own on-disk formats.

- Alderley (QUT, Milford & Wyeth 2012): ROOT/FRAMESA/Image00001.jpg ... (the rainy night run) and
  ROOT/FRAMESB/Image00001.jpg ... (the sunny day run), frames numbered along the route. ForkGAN trains on the
  first 4/5 of each run (day Image00001-11686 of 14,607, night 1-13800) and tests on the rest:
  `round(0.8 n)` frames, by frame number.
- BDD100K: ROOT/images/100k/{train,val}/<name>.jpg with the detection labels ROOT/labels/det_20/det_{train,val}.json
  (a JSON list of {"name": ..., "attributes": {"timeofday": ..., "weather": ..., "scene": ...}, "labels": [...]};
  the 2018 release's labels/bdd100k_labels_images_{train,val}.json has the same keys and is read when det_20 is
  absent). timeofday "night" -> A, "daytime" -> B ("dawn/dusk", "undefined" are left out); split train = the
  train JSON, test = val (27,971 / 3,929 night, 36,728 / 5,258 day in the full release).
Records without a name or a timeofday, and listed images that do not exist, are skipped, counted and
reported in one line; a missing folder or label file, or a file that is not a JSON list, is a one-line
DatasetError naming it.
"""

from __future__ import annotations

import json
import os
import re

from absl import logging

from official.data.imagefolder import DatasetError

ALDERLEY_FOLDERS = {"A": "FRAMESA", "B": "FRAMESB"}
ALDERLEY_TRAIN_FRACTION = 0.8
BDD_TIMEOFDAY = {"A": "night", "B": "daytime"}
BDD_SPLITS = {"train": "train", "test": "val", "val": "val"}
_FRAME = re.compile(r"(\d+)\.(jpe?g|png)$", re.IGNORECASE)


def _check_split(split: str, allowed) -> None:
    if split not in allowed:
        raise DatasetError(f"split: expected one of {', '.join(allowed)}, got {split!r}")


def alderley_paths(root: str, split: str, train_fraction: float = ALDERLEY_TRAIN_FRACTION) -> dict[str, list[str]]:
    """{"A": night frames, "B": day frames} of `split` (train: the first round(0.8 n) frames of each run)."""
    _check_split(split, ("train", "test"))
    out = {}
    for domain, name in ALDERLEY_FOLDERS.items():
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            raise DatasetError(f"{folder}: Alderley folder {name} not found (expected {root}/FRAMESA, FRAMESB)")
        frames = sorted((int(m.group(1)), f) for f in os.listdir(folder) if (m := _FRAME.search(f)))
        if not frames:
            raise DatasetError(f"{folder}: no numbered frames (Image00001.jpg ...)")
        cut = int(round(train_fraction * len(frames)))
        chosen = frames[:cut] if split == "train" else frames[cut:]
        if not chosen:
            raise DatasetError(f"{folder}: split {split!r} is empty ({len(frames)} frames, train fraction {train_fraction})")
        out[domain] = [os.path.join(folder, f) for _, f in chosen]
    return out


def bdd100k_label_file(root: str, split: str) -> str:
    _check_split(split, tuple(BDD_SPLITS))
    part = BDD_SPLITS[split]
    candidates = (os.path.join(root, "labels", "det_20", f"det_{part}.json"),
                  os.path.join(root, "labels", f"bdd100k_labels_images_{part}.json"))
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise DatasetError(f"{candidates[0]}: BDD100K label file not found (nor {candidates[1]})")


def bdd100k_paths(root: str, split: str) -> dict[str, list[str]]:
    """{"A": night images, "B": daytime images} of `split` by the labels' attributes.timeofday."""
    label_file = bdd100k_label_file(root, split)
    image_dir = os.path.join(root, "images", "100k", BDD_SPLITS[split])
    if not os.path.isdir(image_dir):
        raise DatasetError(f"{image_dir}: BDD100K image folder not found")
    try:
        with open(label_file, encoding="utf-8") as f:
            records = json.load(f)
    except (OSError, ValueError) as err:
        raise DatasetError(f"{label_file}: not readable as JSON ({err})") from err
    if not isinstance(records, list):
        raise DatasetError(f"{label_file}: expected a JSON list of frames with 'name' and 'attributes', "
                           f"got {type(records).__name__}")
    wanted = {v: k for k, v in BDD_TIMEOFDAY.items()}
    out: dict[str, list[str]] = {"A": [], "B": []}
    bad = missing = 0
    for record in records:
        name = record.get("name") if isinstance(record, dict) else None
        attributes = record.get("attributes") if isinstance(record, dict) else None
        timeofday = attributes.get("timeofday") if isinstance(attributes, dict) else None
        if not isinstance(name, str) or not isinstance(timeofday, str):
            bad += 1
            continue
        if timeofday not in wanted:
            continue
        path = os.path.join(image_dir, name)
        if not os.path.isfile(path):
            missing += 1
            continue
        out[wanted[timeofday]].append(path)
    if bad or missing:
        logging.warning("%s: skipped %d record(s) without name/attributes.timeofday and %d listed image(s) missing "
                        "from %s", label_file, bad, missing, image_dir)
    for domain, paths in out.items():
        if not paths:
            raise DatasetError(f"{label_file}: no readable '{BDD_TIMEOFDAY[domain]}' images (attributes.timeofday)")
        paths.sort()
    return out


SOURCES = {"alderley": alderley_paths, "bdd100k_timeofday": bdd100k_paths}

"""ImageNet-C on disk: ROOT/<corruption>/<severity 1..5>/<class folder>/<image>, read as eval batches.

Each (corruption, severity) folder is an image folder in the layout of `imagefolder` and is read by it;
the only difference is the labels. A severity folder may hold a subset of the classes, so its labels are
not its own sorted folder index but the index of the class folder name in the EXPERIMENT's class list
(the sorted class folders of its eval data, exactly the labels the model was trained and evaluated with).
A class folder that is not in that list, a missing root, or a severity folder other than 1..5 is a
one-line `ImageNetCError` naming the path; unreadable images are skipped and counted like everywhere else
(`image_decode.filter_decodable`).

Preprocessing: the experiment's eval transform (`image_preprocessing.preprocess_eval`: resize the shorter
side to image_size / crop_pct, centre crop, normalise), but with crop_pct = 1.0 by default. ImageNet-C
images are already the 224x224 centre crops of val (Resize 256 + CenterCrop 224 was applied before
corrupting), and Game of Noise (datasets.py) reads them with CenterCrop(224) alone; with crop_pct 1 the
resize of a 224 image to image_size 224 is the identity, so the pixels reach the model untouched. A
second 0.875 crop would cut the border again; pass crop_pct=None to get the experiment's own value.
"""

from __future__ import annotations

import dataclasses
import os

import tensorflow as tf

from official.core.config import DataConfig
from official.data import classification_input, imagefolder

SEVERITY_NAMES = ("1", "2", "3", "4", "5")


class ImageNetCError(imagefolder.DatasetError):
    """An ImageNet-C tree that does not fit the layout or the experiment's classes; names the path."""


def list_corruptions(root: str) -> dict[str, list[int]]:
    """{corruption: [severities present]} of ROOT/<corruption>/<severity>/, sorted by name and severity."""
    if not os.path.isdir(root):
        raise ImageNetCError(f"{root}: ImageNet-C folder does not exist")
    found: dict[str, list[int]] = {}
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            continue  # the release's tar files or a README beside the folders
        severities = []
        for sub in sorted(os.listdir(folder)):
            path = os.path.join(folder, sub)
            if not os.path.isdir(path):
                continue
            if sub not in SEVERITY_NAMES:
                raise ImageNetCError(f"{path}: severity folder must be named 1..5, got {sub!r}")
            severities.append(int(sub))
        if not severities:
            raise ImageNetCError(f"{folder}: no severity folders (expected {folder}/<1..5>/<class>/<image>)")
        found[name] = severities
    if not found:
        raise ImageNetCError(f"{root}: no corruption folders (expected ROOT/<corruption>/<1..5>/<class>/<image>)")
    return found


def severity_folder(root: str, corruption: str, severity: int) -> str:
    """ROOT/<corruption>/<severity>, checked to exist."""
    path = os.path.join(root, corruption, str(severity))
    if str(severity) not in SEVERITY_NAMES:
        raise ImageNetCError(f"{path}: severity must be 1..5, got {severity}")
    if not os.path.isdir(path):
        raise ImageNetCError(f"{path}: no such ImageNet-C folder")
    return path


def corruption_source(
    root: str, corruption: str, severity: int, class_names: list[str]
) -> classification_input.ClassificationSource:
    """The undecoded examples of one (corruption, severity), labelled by index in `class_names`."""
    folder = severity_folder(root, corruption, severity)
    examples, count, own_names = imagefolder.image_folder_examples(folder)
    index = {name: i for i, name in enumerate(class_names)}
    unknown = [name for name in own_names if name not in index]
    if unknown:
        raise ImageNetCError(
            f"{os.path.join(folder, unknown[0])}: class folder {unknown[0]!r} is not one of the experiment's "
            f"{len(class_names)} classes ({len(unknown)} such folder{'s' if len(unknown) > 1 else ''})"
        )
    # The reader labels by this folder's own sorted list; map those indices onto the experiment's.
    to_experiment = tf.constant([index[name] for name in own_names], tf.int64)
    relabelled = examples.map(lambda e: {**e, "label": tf.gather(to_experiment, e["label"])})
    return classification_input.ClassificationSource(relabelled, count, list(class_names))


def corruption_dataset(
    root: str,
    corruption: str,
    severity: int,
    eval_data: DataConfig,
    class_names: list[str],
    batch_size: int,
    crop_pct: float | None = 1.0,
) -> tuple[tf.data.Dataset, classification_input.ClassificationSource]:
    """Batched (normalised image, label) of one (corruption, severity) and its source (count, skips).

    `eval_data` gives image_size, interpolation, mean and std; `crop_pct` replaces its crop_pct unless
    None (see the module docstring). Nothing is cached: ImageNet-C severities are read once each.
    """
    source = corruption_source(root, corruption, severity, class_names)
    changes: dict = {"cache": False, "path": severity_folder(root, corruption, severity)}
    if crop_pct is not None:
        changes["crop_pct"] = crop_pct
    cfg = dataclasses.replace(eval_data, **changes)
    dataset = classification_input.build_dataset(cfg, training=False, batch_size=batch_size, source=source)
    return dataset, source

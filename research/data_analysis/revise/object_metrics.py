"""Object-based measurements (the official obj_cnt / obj_siz / obj_ppl pass) over an AuditDataset.

- co-occurrence: a symmetric C x C matrix; entry (i, j), i != j, counts images holding both i and j,
  once per image whatever the number of instances; the diagonal (i, i) counts images holding i;
- overlap: pairs of *different* labels with IoU > 0.95 in an image, counted once per image per pair
  (often a duplicate or synonym label, e.g. "man" and "person" on one box);
- instances: size (fraction of the image area) and distance of the box centre from the image centre
  (0.5, 0.5), for every instance;
- people: per category and supercategory, images with vs without a person.
Raw numbers only; summary.py turns them into tables and findings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from research.data_analysis.revise import boxes as box_ops
from research.data_analysis.revise.dataset import AuditDataset

OVERLAP_IOU = 0.95  # official obj_cnt: overlap_percent


def cooccurrence(label_sets: list[set[int]], num_categories: int) -> np.ndarray:
    """Symmetric matrix of images per unordered category pair; the diagonal counts images per category."""
    counts = np.zeros((num_categories, num_categories), dtype=np.int64)
    for labels in label_sets:
        present = sorted(labels)
        for a, i in enumerate(present):
            for j in present[a:]:
                counts[i, j] += 1
    upper = np.triu(counts, 1)
    return counts + upper.T


def pair_key_counts(matrix: np.ndarray) -> dict[str, int]:
    """The official key form {"i-j": count} with i <= j (nonzero entries only)."""
    rows, cols = np.nonzero(np.triu(matrix))
    return {f"{i}-{j}": int(matrix[i, j]) for i, j in zip(rows, cols, strict=True)}


def overlaps(dataset: AuditDataset, threshold: float = OVERLAP_IOU, legacy: bool = False) -> dict[str, int]:
    """{"i-j": images} for different-label box pairs with IoU > threshold, once per image per pair."""
    found: dict[str, int] = {}
    for img in dataset.images:
        keys = set()
        for a in range(len(img.labels)):
            for b in range(a + 1, len(img.labels)):
                i, j = int(img.labels[a]), int(img.labels[b])
                if i != j and box_ops.iou(img.boxes[a], img.boxes[b], legacy) > threshold:
                    keys.add(f"{min(i, j)}-{max(i, j)}")
        for key in keys:
            found[key] = found.get(key, 0) + 1
    return found


def measure_objects(dataset: AuditDataset, legacy: bool = False,
                    overlap_threshold: float = OVERLAP_IOU) -> dict[str, Any]:
    """All object-based raw statistics as JSON-ready lists and dicts."""
    num_cats, num_super = len(dataset.categories), len(dataset.supercategories)
    label_sets = [set(map(int, img.labels)) for img in dataset.images]
    matrix = cooccurrence(label_sets, num_cats)
    instances = []  # [category, size, centre distance, image index]
    for n, img in enumerate(dataset.images):
        for box, label in zip(img.boxes, img.labels, strict=True):
            instances.append([int(label), box_ops.area(box), box_ops.centre_distance(box, legacy), n])
    with_people = np.zeros(num_cats, np.int64)
    super_with = np.zeros(num_super, np.int64)
    super_without = np.zeros(num_super, np.int64)
    for labels in label_sets:
        has_person = bool(labels & dataset.people)
        if has_person:
            for i in labels:
                with_people[i] += 1
        for s in {dataset.supercategory_of[i] for i in labels}:
            (super_with if has_person else super_without)[s] += 1
    return {
        "num_images": len(dataset.images),
        "instance_counts": np.bincount([int(x) for img in dataset.images for x in img.labels],
                                       minlength=num_cats).tolist(),
        "cooccurrence": matrix.tolist(),
        "overlap": overlaps(dataset, overlap_threshold, legacy),
        "instances": instances,
        "with_people": with_people.tolist(),
        "supercategory_with_people": super_with.tolist(),
        "supercategory_without_people": super_without.tolist(),
    }

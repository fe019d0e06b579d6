"""The in-memory dataset every measurement reads: what the official `TemplateDataset.from_path` returns.

One `ImageRecord` per image holds its boxes in REVISE's layout ([x0, x1, y0, y1] normalised), category
indices, the person-attribute annotation (values and person boxes) and the location (a country string or
a (lat, lng) pair). Readers (readers.py) build an `AuditDataset`; measurements never see file formats.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass
class ImageRecord:
    """One image: boxes (K, 4) as [x0, x1, y0, y1] in [0, 1], labels (K,) category indices."""

    file_name: str
    path: str | None
    boxes: np.ndarray
    labels: np.ndarray
    attributes: list[int] = dataclasses.field(default_factory=list)  # attribute index per annotated person
    person_boxes: list[list[float]] = dataclasses.field(default_factory=list)  # one box per attribute value
    location: Any = None  # None, a country name, or (lat, lng)


@dataclasses.dataclass
class AuditDataset:
    """Categories, their supercategories, the people categories and attribute names, plus the images."""

    source: str
    categories: list[str]
    supercategory_of: list[int]  # category index -> supercategory index
    supercategories: list[str]
    people: set[int]  # category indices that are people (person, man, woman, ...)
    images: list[ImageRecord]
    attribute_names: list[str] = dataclasses.field(default_factory=list)
    skipped: dict[str, int] = dataclasses.field(default_factory=dict)  # reader skip counts by reason

    @property
    def has_attributes(self) -> bool:
        return any(img.attributes for img in self.images)

    @property
    def has_locations(self) -> bool:
        return any(img.location is not None for img in self.images)


def supercategory_index(names: list[str]) -> tuple[list[str], list[int]]:
    """Distinct supercategory names in first-seen order and the index of each entry."""
    order: dict[str, int] = {}
    for name in names:
        order.setdefault(name, len(order))
    return list(order), [order[n] for n in names]

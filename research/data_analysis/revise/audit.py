"""Pass 1: every measurement of one dataset into one JSON-ready dict (measurements.json).

Which axes run depends on what the dataset has: objects always, attributes when images carry attribute
values, separability when those images also have files and an extractor is given, geography when images
carry locations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from research.data_analysis.revise import attribute_metrics, features, geography, object_metrics
from research.data_analysis.revise.dataset import AuditDataset
from research.data_analysis.revise.summary import Thresholds


def measure(dataset: AuditDataset, legacy: bool = False, extractor: Callable | None = None,
            regions: geography.Regions | None = None, attribute_prior: list[int] | None = None,
            n_permutations: int = 100, thresholds: Thresholds | None = None, seed: int = 0,
            progress: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Raw measurements of `dataset` (see the module docstring)."""
    th = thresholds or Thresholds()
    out: dict[str, Any] = {
        "dataset": {"source": dataset.source, "num_images": len(dataset.images),
                    "num_instances": int(sum(len(img.labels) for img in dataset.images)),
                    "categories": dataset.categories, "supercategories": dataset.supercategories,
                    "supercategory_of": dataset.supercategory_of,
                    "people": [dataset.categories[i] for i in sorted(dataset.people)],
                    "skipped": dataset.skipped},
        "options": {"legacy": legacy, "n_permutations": n_permutations, "seed": seed,
                    "extractor": getattr(extractor, "name", None) if extractor else None},
        "thresholds": dataclasses.asdict(th),
    }
    progress(f"objects: {len(dataset.images)} images, {out['dataset']['num_instances']} boxes, "
             f"{len(dataset.categories)} categories")
    out["objects"] = object_metrics.measure_objects(dataset, legacy=legacy)
    if dataset.has_attributes:
        progress(f"attributes: {sum(bool(i.attributes) for i in dataset.images)} annotated images "
                 f"({', '.join(dataset.attribute_names)})")
        out["attributes"] = attribute_metrics.measure_attributes(dataset, legacy=legacy)
        out["attribute_prior"] = list(attribute_prior) if attribute_prior else None
        if extractor is not None:
            paths = {n: img.path for n, img in enumerate(dataset.images)
                     if img.attributes and img.path and set(img.attributes) & {0, 1}}
            feats = features.extract(paths, extractor, progress=progress)
            groups = attribute_metrics.group_features(dataset, feats)
            out["separability"] = {}
            for c, (a, b) in sorted(groups.items()):
                if min(len(a), len(b)) >= th.min_support:
                    progress(f"separability: {dataset.categories[c]} ({len(a)} vs {len(b)} images)")
                    out["separability"][str(c)] = attribute_metrics.separability(
                        a, b, n_permutations=n_permutations, seed=seed)
    if dataset.has_locations:
        progress(f"geography: {sum(i.location is not None for i in dataset.images)} located images")
        out["geography"] = geography.measure_geography(dataset, regions)
    return out

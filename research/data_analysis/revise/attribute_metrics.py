"""Attribute-based measurements (perceived gender or any person attribute) and their statistics.

Raw pass (the official att_cnt / att_siz / att_dis):
- counts: images per attribute value, per (value, category) and per (value, unordered category pair),
  once per image (the official att_cnt adds once per annotated person, which differs only when two
  people in one image share a value);
- persons: size and centre distance of each annotated person box (no face detector here: the official
  AWS Rekognition / OpenCV cascade step that sets aside faceless or tiny people is not run);
- distances: for each annotated person and each category in the image, the smallest centre distance to an
  instance of that category divided by sqrt(person_area * object_area) (the person's own box excluded).
Statistics:
- `binomial_flags`: per category, the count of value 0 among images with value 0 or 1 against the dataset
  prior, two-sided scipy.stats.binomtest (the official notebooks use stats.binom_test the same way);
- `separability`: standardise, PCA to sqrt(n) dimensions, standardise, linear SVC (max_iter 5000),
  accuracy and p-value from sklearn's permutation_test_score with 100 permutations, as prerun_analyzeattr.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from research.data_analysis.revise import boxes as box_ops
from research.data_analysis.revise.dataset import AuditDataset
from research.data_analysis.revise.object_metrics import cooccurrence

MAX_FEATURES_PER_GROUP = 500  # official att_clu: features kept per (category, attribute value)


def measure_attributes(dataset: AuditDataset, legacy: bool = False) -> dict[str, Any]:
    """Raw attribute statistics (module docstring) as JSON-ready lists."""
    num_values, num_cats = len(dataset.attribute_names), len(dataset.categories)
    image_counts = np.zeros(num_values, np.int64)
    category_counts = np.zeros((num_values, num_cats), np.int64)
    label_sets: list[list[set[int]]] = [[] for _ in range(num_values)]
    persons = []  # [value, size, centre distance, image index]
    distances: list[list[list[float]]] = [[[] for _ in range(num_values)] for _ in range(num_cats)]
    for n, img in enumerate(dataset.images):
        if not img.attributes:
            continue
        labels = set(map(int, img.labels))
        for value in set(img.attributes):
            image_counts[value] += 1
            label_sets[value].append(labels)
            for c in labels:
                category_counts[value, c] += 1
        for value, person in zip(img.attributes, img.person_boxes, strict=True):
            person_area = box_ops.area(person)
            persons.append([value, person_area, box_ops.centre_distance(person, legacy), n])
            p_centre = box_ops.centre(person, legacy)
            closest: dict[int, float] = {}
            for box, label in zip(img.boxes, img.labels, strict=True):
                if np.allclose(box, person):
                    continue
                d = float(np.linalg.norm(p_centre - box_ops.centre(box, legacy)))
                d /= float(np.sqrt(person_area * box_ops.area(box)))
                closest[int(label)] = min(d, closest.get(int(label), np.inf))
            for c, d in closest.items():
                distances[c][value].append(d)
    return {
        "attribute_names": list(dataset.attribute_names),
        "image_counts": image_counts.tolist(),
        "category_counts": category_counts.tolist(),
        "pair_counts": [cooccurrence(sets, num_cats).tolist() for sets in label_sets],
        "persons": persons,
        "distances": distances,
    }


def binomial_test(k: int, n: int, prior: float) -> float:
    """Two-sided p-value of k successes in n trials under success probability `prior`."""
    return float(stats.binomtest(int(k), int(n), float(prior), alternative="two-sided").pvalue)


def binomial_flags(category_counts, prior_counts, categories: list[str], min_images: int = 1) -> list[dict]:
    """Per category: value-0 share among images with value 0 or 1 vs the dataset's value-0 share.

    prior_counts: images per value over the dataset (e.g. COCO's 6642 female / 16324 male).
    """
    counts = np.asarray(category_counts)
    prior = prior_counts[0] / float(prior_counts[0] + prior_counts[1])
    rows = []
    for c, name in enumerate(categories):
        k0, k1 = int(counts[0, c]), int(counts[1, c])
        n = k0 + k1
        if n < min_images:
            continue
        rows.append({"category": name, "counts": [k0, k1], "share": k0 / n, "prior": prior,
                     "p_value": binomial_test(k0, n, prior)})
    return rows


def _project(features: np.ndarray) -> np.ndarray:
    """StandardScaler -> PCA(sqrt(n) components) -> StandardScaler, as the official prerun."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    dim = max(1, min(int(np.sqrt(len(features))), features.shape[1], len(features)))
    projected = PCA(n_components=dim).fit_transform(StandardScaler().fit_transform(features))
    return StandardScaler().fit_transform(projected)


def separability(features_a: np.ndarray, features_b: np.ndarray, n_permutations: int = 100,
                 seed: int = 0, estimator=None) -> dict[str, float]:
    """How well a linear classifier separates two groups' features (e.g. female vs male images of a
    category): cross-validated accuracy, mean accuracy under permuted labels and the permutation p-value."""
    from sklearn.model_selection import StratifiedKFold, permutation_test_score
    from sklearn.svm import SVC

    features = np.concatenate([np.asarray(features_a, float), np.asarray(features_b, float)])
    labels = np.r_[np.zeros(len(features_a)), np.ones(len(features_b))]
    folds = int(min(5, len(features_a), len(features_b)))
    if folds < 2:
        raise ValueError("separability needs at least 2 samples per group")
    clf = estimator if estimator is not None else SVC(kernel="linear", max_iter=5000)
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    score, permuted, p_value = permutation_test_score(
        clf, _project(features), labels, scoring="accuracy", cv=cv, n_permutations=n_permutations,
        random_state=seed)
    return {"accuracy": float(score), "permuted_accuracy": float(np.mean(permuted)),
            "ratio": float(score / max(np.mean(permuted), 1e-12)), "p_value": float(p_value),
            "n": [len(features_a), len(features_b)]}


def group_features(dataset: AuditDataset, features: dict[int, np.ndarray], value_pair=(0, 1),
                   cap: int = MAX_FEATURES_PER_GROUP) -> dict[int, list[np.ndarray]]:
    """Per category: [features of value-a images, features of value-b images], each capped at `cap`."""
    groups: dict[int, list[list[np.ndarray]]] = {}
    for n, img in enumerate(dataset.images):
        if n not in features or not img.attributes:
            continue
        for side, value in enumerate(value_pair):
            if value not in img.attributes:
                continue
            for c in set(map(int, img.labels)):
                bucket = groups.setdefault(c, [[], []])[side]
                if len(bucket) < cap:
                    bucket.append(features[n])
    return {c: [np.array(a), np.array(b)] for c, (a, b) in groups.items()}

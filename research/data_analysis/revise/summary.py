"""From raw measurements to summary tables and findings (pass 2 of the official tool, minus notebooks).

`summarize(measurements)` is a pure function of the JSON-ready measurements dict that tools.revise also
writes as measurements.json, so reloading that file regenerates the same summary (card check 8).
Findings are correlations worth a human look, each with the statistic behind it; they are not verdicts
that a dataset is biased, and the thresholds (`Thresholds`) are knobs, not standards.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
from scipy import stats

from research.data_analysis.revise.attribute_metrics import binomial_flags, binomial_test


@dataclasses.dataclass
class Thresholds:
    """When a statistic becomes a finding."""

    alpha: float = 0.05  # p-value below which a test is listed (not corrected for multiple tests)
    count_ratio: float = 3.0  # a category in >= ratio x (or <= 1/ratio of) the median image count
    cooccur_min: float = 0.9  # both conditional frequencies P(j|i), P(i|j) at least this
    min_support: int = 3  # images a pair / instances a category needs before it is tested
    dominant_share: float = 0.5  # a country or subregion with at least this share of located images


# What one could do if, after looking, the pattern is unwanted (the paper's "actionable suggestions").
ACTIONS = {
    "over_represented": "Check whether collection favoured '{subject}'; subsample it or weight the loss if unwanted.",
    "under_represented": "Collect more images of '{subject}' or report per-category results.",
    "cooccurrence": "Collect images showing one without the other, so a model cannot rely on the pair.",
    "overlap": "Check whether the two labels are duplicates or synonyms; merge or document them.",
    "size": "Collect '{subject}' at other scales, or evaluate per object size.",
    "distance": "Collect '{subject}' at other positions, or evaluate per position.",
    "representation": "Collect images of the under-represented group, or report results per group.",
    "category_skew": "Collect '{subject}' images of the under-represented group; report per-group results.",
    "person_size": "Check how each group is photographed (close-up vs far); collect the missing framings.",
    "separability": "Look at the images ranked most typical of each group (different scenes, roles?) and "
                    "collect '{subject}' images in the contexts missing for a group.",
    "dominant_country": "Collect images from other countries, or state the geographic scope.",
    "dominant_subregion": "Collect images from other subregions, or state the geographic scope.",
    "absent_countries": "Collect images from these countries, or state that they are out of scope.",
}


def _finding(axis: str, kind: str, subject: str, text: str, **stat: Any) -> dict[str, Any]:
    return {"axis": axis, "kind": kind, "subject": subject, "text": text,
            "action": ACTIONS[kind].format(subject=subject), **stat}


def _welch(a, b) -> float:
    """Welch's two-sample t-test p-value (scipy warns on constant groups; the p-value is still right)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def object_tables(objects: dict, categories: list[str], supercategories: list[str],
                  supercategory_of: list[int], th: Thresholds) -> tuple[dict, list[dict]]:
    matrix = np.asarray(objects["cooccurrence"])
    images = np.diag(matrix)
    counts = [{"category": name, "images": int(images[c]), "instances": int(objects["instance_counts"][c]),
               "images_with_people": int(objects["with_people"][c])} for c, name in enumerate(categories)]
    findings = []
    present = images[images > 0]
    median = float(np.median(present)) if len(present) else 0.0
    for c, name in enumerate(categories):
        if median and images[c] >= th.count_ratio * median:
            findings.append(_finding("object", "over_represented", name,
                                     f"'{name}' appears in {images[c]} images, {images[c] / median:.1f}x the median "
                                     f"category ({median:g} images).", images=int(images[c]), median=median))
        elif median and 0 < images[c] <= median / th.count_ratio:
            findings.append(_finding("object", "under_represented", name,
                                     f"'{name}' appears in only {images[c]} images vs a median of {median:g}.",
                                     images=int(images[c]), median=median))
    pairs = []
    for i, j in zip(*np.nonzero(np.triu(matrix, 1)), strict=True):
        both = int(matrix[i, j])
        row = {"pair": [categories[i], categories[j]], "images": both,
               "p_j_given_i": both / images[i], "p_i_given_j": both / images[j]}
        pairs.append(row)
        if both >= th.min_support and min(row["p_j_given_i"], row["p_i_given_j"]) >= th.cooccur_min:
            findings.append(_finding(
                "object", "cooccurrence", f"{categories[i]} + {categories[j]}",
                f"'{categories[i]}' and '{categories[j]}' appear together in {both} images: "
                f"{row['p_j_given_i']:.0%} of '{categories[i]}' images and {row['p_i_given_j']:.0%} of "
                f"'{categories[j]}' images. A model may learn one as context for the other.",
                images=both, p_j_given_i=row["p_j_given_i"], p_i_given_j=row["p_i_given_j"]))
    pairs.sort(key=lambda r: (-r["images"], r["pair"]))
    overlap = []
    for key, n in sorted(objects["overlap"].items()):
        i, j = map(int, key.split("-"))
        overlap.append({"pair": [categories[i], categories[j]], "images": n})
        findings.append(_finding("object", "overlap", f"{categories[i]} / {categories[j]}",
                                 f"'{categories[i]}' and '{categories[j]}' boxes nearly coincide (IoU > 0.95) in "
                                 f"{n} images: possibly duplicate or synonymous labels.", images=n))
    inst = np.asarray(objects["instances"], float).reshape(-1, 4)
    geometry = []
    for c, name in enumerate(categories):
        mine = inst[:, 0] == c
        if not mine.any():
            continue
        row = {"category": name, "instances": int(mine.sum()),
               "median_size": float(np.median(inst[mine, 1])), "median_distance": float(np.median(inst[mine, 2]))}
        if mine.sum() >= th.min_support and (~mine).sum() >= th.min_support:
            for col, what in ((1, "size"), (2, "distance")):
                p = _welch(inst[mine, col], inst[~mine, col])
                row[f"{what}_p_value"] = p
                if p < th.alpha:
                    higher = inst[mine, col].mean() > inst[~mine, col].mean()
                    word = {("size", True): "larger", ("size", False): "smaller",
                            ("distance", True): "farther from the image centre",
                            ("distance", False): "closer to the image centre"}[(what, bool(higher))]
                    findings.append(_finding(
                        "object", what, name,
                        f"'{name}' instances are {word} than other objects (mean {what} "
                        f"{inst[mine, col].mean():.3f} vs {inst[~mine, col].mean():.3f}, Welch t-test p = {p:.2g}).",
                        p_value=p, mean=float(inst[mine, col].mean()), others=float(inst[~mine, col].mean())))
        geometry.append(row)
    supers = []
    for s, name in enumerate(supercategories):
        mine = np.isin(inst[:, 0], [c for c, g in enumerate(supercategory_of) if g == s])
        supers.append({"supercategory": name, "instances": int(mine.sum()),
                       "images_with_people": int(objects["supercategory_with_people"][s]),
                       "images_without_people": int(objects["supercategory_without_people"][s]),
                       "median_size": float(np.median(inst[mine, 1])) if mine.any() else None,
                       "median_distance": float(np.median(inst[mine, 2])) if mine.any() else None})
    tables = {"counts": counts, "pairs": pairs, "overlap": overlap, "geometry": geometry, "supercategories": supers}
    return tables, findings


def attribute_tables(attrs: dict, categories: list[str], prior: list[int] | None,
                     separability: dict | None, th: Thresholds) -> tuple[dict, list[dict]]:
    names = attrs["attribute_names"]
    totals = attrs["image_counts"]
    prior = list(prior) if prior else list(totals[:2])
    findings = []
    overall = binomial_test(totals[0], totals[0] + totals[1], 0.5) if totals[0] + totals[1] else 1.0
    if overall < th.alpha:
        findings.append(_finding("attribute", "representation", f"{names[0]} / {names[1]}",
                                 f"Images annotated '{names[0]}': {totals[0]}, '{names[1]}': {totals[1]} "
                                 f"(binomial test against equal shares p = {overall:.2g}).", p_value=overall))
    flags = binomial_flags(attrs["category_counts"], prior, categories, min_images=th.min_support)
    if flags:  # Benjamini-Hochberg q-values, shown beside the raw p-values that the flags use
        q_values = stats.false_discovery_control([r["p_value"] for r in flags])
        for row, q in zip(flags, q_values, strict=True):
            row["q_value"] = float(q)
    for row in flags:
        if row["p_value"] < th.alpha:
            findings.append(_finding(
                "attribute", "category_skew", row["category"],
                f"'{row['category']}' images are {row['share']:.0%} '{names[0]}' ({row['counts'][0]} of "
                f"{sum(row['counts'])}) vs {row['prior']:.0%} over the dataset (two-sided binomial p = "
                f"{row['p_value']:.2g}).", p_value=row["p_value"], share=row["share"], prior=row["prior"]))
    persons = np.asarray(attrs["persons"], float).reshape(-1, 4)
    person_rows = []
    for v, name in enumerate(names):
        mine = persons[:, 0] == v
        person_rows.append({"attribute": name, "persons": int(mine.sum()),
                            "median_size": float(np.median(persons[mine, 1])) if mine.any() else None,
                            "median_distance": float(np.median(persons[mine, 2])) if mine.any() else None})
    a, b = persons[persons[:, 0] == 0], persons[persons[:, 0] == 1]
    if len(a) >= th.min_support and len(b) >= th.min_support:
        p = _welch(a[:, 1], b[:, 1])
        if p < th.alpha:
            findings.append(_finding("attribute", "person_size", f"{names[0]} / {names[1]}",
                                     f"'{names[0]}' people are {'larger' if a[:, 1].mean() > b[:, 1].mean() else 'smaller'} "
                                     f"in the image than '{names[1]}' people (Welch p = {p:.2g}).", p_value=p))
    sep_rows = []
    for c, res in sorted((separability or {}).items(), key=lambda kv: -kv[1]["accuracy"]):
        sep_rows.append({"category": categories[int(c)], **res})
        if res["p_value"] <= th.alpha:
            findings.append(_finding(
                "attribute", "separability", categories[int(c)],
                f"Images of '{categories[int(c)]}' with '{names[0]}' vs '{names[1]}' are linearly separable in "
                f"feature space (accuracy {res['accuracy']:.2f} vs {res['permuted_accuracy']:.2f} with shuffled "
                f"labels, permutation p = {res['p_value']:.2g}): the contexts may differ.", p_value=res["p_value"]))
    tables = {"attribute_names": names, "image_counts": totals, "prior": prior, "overall_p_value": overall,
              "categories": flags, "persons": person_rows, "separability": sep_rows}
    return tables, findings


def geography_tables(geo: dict, th: Thresholds) -> tuple[dict, list[dict]]:
    findings = []
    located = sum(geo["countries"].values())
    for level, counts in (("country", geo["countries"]), ("subregion", geo["subregions"])):
        for name, n in counts.items():
            if located and n / located >= th.dominant_share:
                findings.append(_finding("geography", f"dominant_{level}", name,
                                         f"{n} of {located} located images ({n / located:.0%}) are in {level} '{name}'.",
                                         images=n, share=n / located))
    absent = [c for c, n in geo["countries"].items() if n == 0]
    if absent and located:
        findings.append(_finding("geography", "absent_countries", ", ".join(absent[:20]),
                                 f"{len(absent)} countries of the regions file have no image: "
                                 f"{', '.join(absent[:20])}{' ...' if len(absent) > 20 else ''}.", count=len(absent)))
    return dict(geo), findings


def summarize(measurements: dict, thresholds: Thresholds | None = None) -> dict[str, Any]:
    """Summary tables and findings of one measurements dict (see tools.revise)."""
    th = thresholds or Thresholds(**measurements.get("thresholds", {}))
    meta = measurements["dataset"]
    tables, findings = object_tables(measurements["objects"], meta["categories"], meta["supercategories"],
                                     meta["supercategory_of"], th)
    summary = {"dataset": meta, "thresholds": dataclasses.asdict(th), "objects": tables}
    if measurements.get("attributes"):
        summary["attributes"], more = attribute_tables(measurements["attributes"], meta["categories"],
                                                      measurements.get("attribute_prior"),
                                                      measurements.get("separability"), th)
        findings += more
    if measurements.get("geography"):
        summary["geography"], more = geography_tables(measurements["geography"], th)
        findings += more
    summary["findings"] = findings
    return summary

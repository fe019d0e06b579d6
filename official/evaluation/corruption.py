"""ImageNet-C scores: corruption error (CE), mCE, relative mCE and mean corruption accuracy, in percent.

Hendrycks & Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions and Perturbations"
(ICLR 2019), section 3: for a classifier f, corruption c and severity s, E^f_{c,s} is the top-1 error;

    CE_c          = sum_s E^f_{c,s} / sum_s E^AlexNet_{c,s}
    relative CE_c = sum_s (E^f_{c,s} - E^f_clean) / sum_s (E^AlexNet_{c,s} - E^AlexNet_clean)

and mCE / relative mCE average them over the 15 corruptions. The AlexNet errors are fixed constants,
published as each corruption's error averaged over its five severities (not per severity), so the
sums are computed as means: sum_s E_{c,s} / sum_s E^A_{c,s} = mean_s E_{c,s} / mean_s E^A_{c,s} when all
five severities are scored. With fewer severities the ratio uses the mean over the scored ones against
AlexNet's five-severity mean, an approximation the summary flags (`all_severities: false`).

Every accuracy going in and every score coming out is in percent (the papers' and Game of Noise's
Results/*.txt convention); Game of Noise's evaluation_utils.get_mce_from_accuracy is the same CE.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from official.core.errors import BadValueError

# The four families of the benchmark (Hendrycks & Dietterich 2019, figure 1); brightness is "weather".
CORRUPTION_GROUPS: dict[str, tuple[str, ...]] = {
    "noise": ("gaussian_noise", "shot_noise", "impulse_noise"),
    "blur": ("defocus_blur", "glass_blur", "motion_blur", "zoom_blur"),
    "weather": ("snow", "frost", "fog", "brightness"),
    "digital": ("contrast", "elastic_transform", "pixelate", "jpeg_compression"),
}
# The folder names of the ImageNet-C release (and imagecorruptions.get_corruption_names()), in benchmark order.
CORRUPTIONS: tuple[str, ...] = tuple(name for group in CORRUPTION_GROUPS.values() for name in group)
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)

# AlexNet top-1 error per corruption, averaged over the five severities (fractions). The constants of
# the ImageNet-C release, also Game of Noise's evaluation_utils.get_ce_alexnet (spec "Metrics").
ALEXNET_ERRORS: dict[str, float] = {
    "gaussian_noise": 0.886428,
    "shot_noise": 0.894468,
    "impulse_noise": 0.922640,
    "defocus_blur": 0.819880,
    "glass_blur": 0.826268,
    "motion_blur": 0.785948,
    "zoom_blur": 0.798360,
    "snow": 0.866816,
    "frost": 0.826572,
    "fog": 0.819324,
    "brightness": 0.564592,
    "contrast": 0.853204,
    "elastic_transform": 0.646056,
    "pixelate": 0.717840,
    "jpeg_compression": 0.606500,
}
# AlexNet's clean ImageNet val top-1 error (43.48%: torchvision's AlexNet, 56.52% top-1; the paper's
# table 1 rounds it to 43.5), the E^AlexNet_clean of the relative CE.
ALEXNET_CLEAN_ERROR = 0.4348

# Names as Game of Noise's Results/*.txt and the papers print them.
DISPLAY_NAMES: dict[str, str] = {
    name: name.replace("_", " ").title().replace("Jpeg", "JPEG") for name in CORRUPTIONS
}


class IncompleteBenchmarkWarning(UserWarning):
    """An mCE averaged over fewer than the 15 corruptions: not comparable with published numbers."""


def _alexnet_error(name: str) -> float:
    if name not in ALEXNET_ERRORS:
        raise BadValueError(f"corruption {name!r}: no AlexNet reference error (one of {', '.join(CORRUPTIONS)})")
    return ALEXNET_ERRORS[name]


def _mean_error(top1_by_severity: Mapping[int, float], name: str) -> float:
    """Mean top-1 error (fraction) over the scored severities, from accuracies in percent."""
    if not top1_by_severity:
        raise BadValueError(f"corruption {name!r}: no severity scored")
    return sum(1.0 - acc / 100.0 for acc in top1_by_severity.values()) / len(top1_by_severity)


def corruption_error(name: str, top1_by_severity: Mapping[int, float]) -> float:
    """CE_c in percent: the model's error on corruption `name` over AlexNet's (100 = as bad as AlexNet)."""
    return 100.0 * _mean_error(top1_by_severity, name) / _alexnet_error(name)


def relative_corruption_error(name: str, top1_by_severity: Mapping[int, float], clean_top1: float) -> float:
    """Relative CE_c in percent: the error the corruption adds, over the error it adds to AlexNet."""
    added = _mean_error(top1_by_severity, name) - (1.0 - clean_top1 / 100.0)
    return 100.0 * added / (_alexnet_error(name) - ALEXNET_CLEAN_ERROR)


def mean_corruption_error(errors: Mapping[str, float]) -> float:
    """The mean of per-corruption (relative) CEs; warns when fewer than the 15 corruptions are given."""
    if not errors:
        raise BadValueError("mCE: no corruption scored")
    missing = [name for name in CORRUPTIONS if name not in errors]
    if missing:
        warnings.warn(
            f"mCE over {len(errors)} of {len(CORRUPTIONS)} corruptions (missing {', '.join(missing)}): "
            "not comparable with published mCE",
            IncompleteBenchmarkWarning,
            stacklevel=2,
        )
    return sum(errors.values()) / len(errors)


def mean_corruption_top1(top1: Mapping[str, Mapping[int, float]]) -> float:
    """Top-1 averaged over every scored (corruption, severity): the "ImageNet-C top-1" of the papers
    (ImageNet-C has the same image count in every cell, so this is also the per-image average)."""
    cells = [acc for by_severity in top1.values() for acc in by_severity.values()]
    if not cells:
        raise BadValueError("mean corruption top-1: no corruption scored")
    return sum(cells) / len(cells)


def summarize(clean_top1: float, top1: Mapping[str, Mapping[int, float]]) -> dict:
    """The corruption_eval JSON body from clean top-1 and {corruption: {severity: top-1}} (percent).

    Corruptions without an AlexNet reference (imagecorruptions' extras such as speckle_noise) get
    accuracies but no CE and stay out of mCE; `complete` says whether all 15 x 5 cells were scored.
    """
    corruptions: dict[str, dict] = {}
    ces: dict[str, float] = {}
    relative: dict[str, float] = {}
    for name in sorted(top1, key=lambda n: (CORRUPTIONS.index(n) if n in CORRUPTIONS else len(CORRUPTIONS), n)):
        by_severity = top1[name]
        entry: dict = {str(s): float(by_severity[s]) for s in sorted(by_severity)}
        entry["mean"] = sum(by_severity.values()) / len(by_severity)
        if name in ALEXNET_ERRORS:
            ces[name] = entry["ce"] = corruption_error(name, by_severity)
            relative[name] = entry["relative_ce"] = relative_corruption_error(name, by_severity, clean_top1)
        corruptions[name] = entry
    all_severities = all(set(top1[n]) == set(SEVERITIES) for n in top1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteBenchmarkWarning)  # said once below, by `complete`
        mce = mean_corruption_error(ces) if ces else None
        relative_mce = mean_corruption_error(relative) if relative else None
    return {
        "clean_top1": float(clean_top1),
        "corruptions": corruptions,
        "mce": mce,
        "relative_mce": relative_mce,
        "mean_corruption_top1": mean_corruption_top1(top1),
        "scored_corruptions": len(ces),
        "all_severities": all_severities,
        "complete": len(ces) == len(CORRUPTIONS) and all_severities,
    }

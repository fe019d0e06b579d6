"""ImageNet-C scores (official/evaluation/corruption.py) against AlexNet's identities and Game of Noise's
published per-corruption results (spec "Checks we can run here", item 5)."""

from __future__ import annotations

import warnings

import pytest
from imagecorruptions import get_corruption_names  # the dev extra's imagecorruptions-imaug

from official.evaluation import corruption

# bethgelab/game-of-noise Results/ANT_results.txt: per-corruption "Top1 accuracy" (averaged over the five
# severities) and "CE"; "Full ImageNet-C ... mCE: 62.51", README table mCE 62.5, ImageNet val top-1 76.07.
ANT = {
    "brightness": (69.66, 53.74),
    "contrast": (42.12, 67.84),
    "defocus_blur": (47.02, 64.62),
    "elastic_transform": (48.89, 79.11),
    "fog": (44.20, 68.10),
    "frost": (45.50, 65.94),
    "gaussian_noise": (64.77, 39.74),
    "glass_blur": (36.98, 76.28),
    "impulse_noise": (63.95, 39.07),
    "jpeg_compression": (62.36, 62.05),
    "motion_blur": (43.30, 72.14),
    "pixelate": (54.65, 63.18),
    "shot_noise": (65.73, 38.31),
    "snow": (36.71, 73.01),
    "zoom_blur": (40.56, 74.46),
}
# Results/Gauss_sigma_0.5_results.txt: "mCE: 64.50", README 64.5, ImageNet-C top-1 49.38.
GAUSS_SIGMA_05 = {
    "brightness": (67.83, 56.98),
    "contrast": (39.32, 71.12),
    "defocus_blur": (46.66, 65.06),
    "elastic_transform": (49.60, 78.01),
    "fog": (43.61, 68.83),
    "frost": (43.75, 68.05),
    "gaussian_noise": (59.21, 46.02),
    "glass_blur": (37.79, 75.29),
    "impulse_noise": (56.76, 46.87),
    "jpeg_compression": (61.89, 62.83),
    "motion_blur": (43.61, 71.75),
    "pixelate": (54.83, 62.92),
    "shot_noise": (59.28, 45.53),
    "snow": (35.30, 74.64),
    "zoom_blur": (41.23, 73.62),
}
# Results/clean_results.txt (torchvision's vanilla ResNet-50): "mCE: 76.70", README 76.7, ImageNet-C top-1 39.17.
VANILLA = {
    "brightness": (68.02, 56.64),
    "contrast": (39.06, 71.43),
    "defocus_blur": (38.75, 74.71),
    "elastic_transform": (45.25, 84.75),
    "fog": (45.83, 66.11),
    "frost": (38.14, 74.84),
    "gaussian_noise": (29.29, 79.77),
    "glass_blur": (26.79, 88.61),
    "impulse_noise": (23.81, 82.58),
    "jpeg_compression": (53.41, 76.82),
    "motion_blur": (38.67, 78.03),
    "pixelate": (44.79, 76.92),
    "shot_noise": (27.03, 81.58),
    "snow": (32.53, 77.83),
    "zoom_blur": (36.24, 79.86),
}


def _alexnet_top1() -> dict[str, dict[int, float]]:
    """Every severity at AlexNet's mean accuracy (acc = 1 - err), in percent."""
    return {name: {s: 100.0 * (1.0 - err) for s in corruption.SEVERITIES} for name, err in corruption.ALEXNET_ERRORS.items()}


def test_names_groups_and_constants():
    assert len(corruption.CORRUPTIONS) == 15 and len(set(corruption.CORRUPTIONS)) == 15
    assert {k: len(v) for k, v in corruption.CORRUPTION_GROUPS.items()} == {"noise": 3, "blur": 4, "weather": 4, "digital": 4}
    assert set(corruption.ALEXNET_ERRORS) == set(corruption.CORRUPTIONS)
    # The folder names are imagecorruptions' benchmark names, in the same order.
    assert tuple(get_corruption_names()) == corruption.CORRUPTIONS
    assert corruption.DISPLAY_NAMES["jpeg_compression"] == "JPEG Compression"
    assert corruption.DISPLAY_NAMES["gaussian_noise"] == "Gaussian Noise"


def test_alexnet_scores_100():
    top1 = _alexnet_top1()
    summary = corruption.summarize(100.0 * (1.0 - corruption.ALEXNET_CLEAN_ERROR), top1)
    for name in corruption.CORRUPTIONS:
        assert summary["corruptions"][name]["ce"] == pytest.approx(100.0, abs=1e-9)
        assert summary["corruptions"][name]["relative_ce"] == pytest.approx(100.0, abs=1e-9)
    assert summary["mce"] == pytest.approx(100.0, abs=1e-9)
    assert summary["relative_mce"] == pytest.approx(100.0, abs=1e-9)
    assert summary["complete"] and summary["scored_corruptions"] == 15


def test_sum_over_severities_not_mean_of_ratios():
    """CE_c = sum_s E_s / sum_s E^A_s: severities with different errors combine before the ratio."""
    err_a = corruption.ALEXNET_ERRORS["fog"]
    errors = [0.1, 0.2, 0.3, 0.4, 0.9]
    top1 = {s: 100.0 * (1.0 - e) for s, e in zip(corruption.SEVERITIES, errors, strict=True)}
    expected = 100.0 * sum(errors) / (5 * err_a)
    assert corruption.corruption_error("fog", top1) == pytest.approx(expected, rel=1e-12)
    clean_err = 0.05
    expected_rel = 100.0 * sum(e - clean_err for e in errors) / (5 * (err_a - corruption.ALEXNET_CLEAN_ERROR))
    assert corruption.relative_corruption_error("fog", top1, 100.0 * (1 - clean_err)) == pytest.approx(expected_rel)
    # A clean model no better than it is under fog adds no error: relative CE 0.
    flat = {s: 70.0 for s in corruption.SEVERITIES}
    assert corruption.relative_corruption_error("fog", flat, 70.0) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "results, mce, imagenet_c_top1",
    [(ANT, 62.51, 51.09), (GAUSS_SIGMA_05, 64.50, 49.38), (VANILLA, 76.70, 39.17)],
    ids=["ANT", "Gauss_sigma_0.5", "vanilla"],
)
def test_reproduces_game_of_noise_results(results, mce, imagenet_c_top1):
    # The files give the severity-averaged top-1; every severity at that value has the same mean error.
    top1 = {name: {s: acc for s in corruption.SEVERITIES} for name, (acc, _) in results.items()}
    summary = corruption.summarize(76.0, top1)
    for name, (_, ce) in results.items():
        # Both columns are printed to 2 decimals: the accuracy's rounding (0.005 points) moves CE by up to
        # 0.005 / E^AlexNet_c (<= 0.009), the CE's own by 0.005: the bound is 0.0139 at most (brightness).
        tolerance = 0.005 + 0.005 / corruption.ALEXNET_ERRORS[name] + 1e-9
        assert summary["corruptions"][name]["ce"] == pytest.approx(ce, abs=tolerance), name
    assert summary["mce"] == pytest.approx(mce, abs=0.01)
    assert round(summary["mce"], 1) == round(mce, 1)  # the README's one-decimal figure
    assert summary["mean_corruption_top1"] == pytest.approx(imagenet_c_top1, abs=0.01)


def test_subset_warns_and_flags():
    top1 = {"gaussian_noise": {1: 50.0, 2: 40.0}, "fog": {1: 60.0, 2: 55.0}}
    with pytest.warns(corruption.IncompleteBenchmarkWarning, match="2 of 15"):
        value = corruption.mean_corruption_error({n: corruption.corruption_error(n, t) for n, t in top1.items()})
    expected = (100 * 0.55 / 0.886428 + 100 * 0.425 / 0.819324) / 2
    assert value == pytest.approx(expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = corruption.summarize(80.0, top1)
    assert summary["mce"] == pytest.approx(expected)
    assert not summary["complete"] and not summary["all_severities"] and summary["scored_corruptions"] == 2
    assert summary["corruptions"]["gaussian_noise"]["mean"] == 45.0
    assert list(summary["corruptions"]) == ["gaussian_noise", "fog"]  # benchmark order


def test_extra_corruption_has_accuracy_but_no_ce():
    top1 = {"speckle_noise": {3: 30.0}, "snow": {3: 50.0}}
    summary = corruption.summarize(80.0, top1)
    assert "ce" not in summary["corruptions"]["speckle_noise"]
    assert summary["mce"] == pytest.approx(100 * 0.5 / 0.866816)
    assert summary["mean_corruption_top1"] == pytest.approx(40.0)
    with pytest.raises(corruption.BadValueError, match="speckle_noise"):
        corruption.corruption_error("speckle_noise", {1: 10.0})

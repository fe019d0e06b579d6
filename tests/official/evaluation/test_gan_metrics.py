"""FID and KID against independent references: scipy.linalg.sqrtm for the Fréchet distance (the formula
as pytorch-fid computes it), and an explicit double loop over sample pairs for the unbiased KID."""

import numpy as np
import pytest
from scipy import linalg

from official.evaluation import gan_metrics


def _reference_fid(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real)


def _reference_mmd2(x, y):
    m, d = len(x), x.shape[1]

    def k(a, b):
        return (float(np.dot(a, b)) / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


@pytest.mark.parametrize("n, d", [(200, 16), (40, 64)])  # full-rank and rank-deficient covariances
def test_fid_matches_scipy_sqrtm(n, d):
    rng = np.random.default_rng(d)
    a = rng.normal(size=(n, d))
    b = rng.normal(size=(n, d)) @ rng.normal(scale=0.5, size=(d, d)) + 0.3
    ours, ref = gan_metrics.fid_from_features(a, b), _reference_fid(a, b)
    assert ours == pytest.approx(ref, rel=1e-6, abs=1e-6)
    assert ours > 1.0


def test_fid_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 8))
    assert abs(gan_metrics.fid_from_features(a, a)) < 1e-9
    shift = np.arange(8) * 0.1
    assert gan_metrics.fid_from_features(a, a + shift) == pytest.approx(float(shift @ shift), abs=1e-9)
    # Two isotropic Gaussians N(0, s1^2 I), N(0, s2^2 I): FID = d (s1 - s2)^2.
    assert gan_metrics.frechet_distance(np.zeros(3), 4 * np.eye(3), np.zeros(3), np.eye(3)) == pytest.approx(3.0)


def test_kid_equals_the_pairwise_loop():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(24, 6)), rng.normal(loc=0.4, size=(24, 6))
    # One subset of the whole set is a permutation of each set: the MMD is the full-set value.
    mean, std = gan_metrics.kid_from_features(x, y, num_subsets=1, subset_size=24)
    assert mean == pytest.approx(_reference_mmd2(x, y), rel=1e-10)
    assert std == 0.0
    # Subsets: the mean over subsets equals the loop reference on the same subsets.
    mean, _ = gan_metrics.kid_from_features(x, y, num_subsets=5, subset_size=10, seed=3)
    draw = np.random.default_rng(3)
    ref = np.mean([_reference_mmd2(x[draw.choice(24, 10, replace=False)], y[draw.choice(24, 10, replace=False)])
                   for _ in range(5)])
    assert mean == pytest.approx(ref, rel=1e-10)


def test_kid_separates_distributions_and_is_unbiased_near_zero():
    rng = np.random.default_rng(2)
    same = [gan_metrics.kid_from_features(rng.normal(size=(300, 16)), rng.normal(size=(300, 16)),
                                          num_subsets=10, subset_size=100, seed=s)[0] for s in range(5)]
    shifted = gan_metrics.kid_from_features(rng.normal(size=(300, 16)), rng.normal(loc=0.5, size=(300, 16)),
                                            num_subsets=10, subset_size=100)[0]
    assert abs(np.mean(same)) < 0.01  # unbiased: centred on 0 (a biased estimator stays positive)
    assert min(same) < 0 < shifted
    assert shifted > 20 * abs(np.mean(same))


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="real: expected"):
        gan_metrics.kid_from_features(np.zeros(5), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        gan_metrics.fid_from_features(np.full((4, 2), np.nan), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="feature sizes differ"):
        gan_metrics.kid_from_features(np.zeros((4, 2)), np.zeros((4, 3)))

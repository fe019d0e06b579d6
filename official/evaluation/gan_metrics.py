"""FID and KID from feature arrays: the math the GAN methods' cards score with, independent of the network.

The features normally come from an Inception pool3 layer (official/evaluation/inception_features.py). The
published numbers use the TF FID graph of 2015-12-05 (pytorch-fid's `pt_inception` port); that graph and
Keras' ImageNet InceptionV3 weights are downloads, so figures computed here are comparable with a
paper only when the user supplies the same network's weights.

- FID (Heusel et al. 2017): |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), S with ddof 1 as `np.cov`.
  Tr((S1 S2)^(1/2)) is computed as the sum of square roots of the eigenvalues of S1^(1/2) S2 S1^(1/2),
  which is symmetric positive semi-definite, so no complex matrix square root (and no "imaginary
  component" fallback of `scipy.linalg.sqrtm`) is needed.
- KID (Binkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3,
  averaged over random subsets of equal size drawn without replacement from each set (torch-fidelity's
  protocol: 100 subsets of 1,000; COCO-FUNIT's model selection: 1 subset of 256).
"""

from __future__ import annotations

import numpy as np


def _as_features(name: str, features) -> np.ndarray:
    x = np.asarray(features, np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"{name}: expected (N >= 2, D) features, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: features contain NaN or inf")
    return x


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and sample covariance (D, D) with ddof 1, in float64."""
    x = _as_features("features", features)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"statistics do not match: mu {mu1.shape}/{mu2.shape}, sigma {sigma1.shape}/{sigma2.shape}")
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    trace_sqrt = float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None))))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


def fid_from_features(real, fake) -> float:
    """FID between two (N, D) feature arrays."""
    return frechet_distance(*feature_statistics(real), *feature_statistics(fake))


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x.y / d + 1)^3 for all pairs: (N, D) x (M, D) -> (N, M)."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of two equal-size samples: off-diagonal means of k(x, x) and k(y, y), minus twice
    the full mean of k(x, y)."""
    m = len(x)
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    off = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(off - 2.0 * kxy.mean())


def kid_from_features(real, fake, num_subsets: int = 100, subset_size: int = 1000,
                      seed: int = 0) -> tuple[float, float]:
    """KID mean and standard deviation over `num_subsets` subsets of `subset_size` per set.

    The subset size is capped at the smaller set's size (as torch-fidelity requires it to fit, we cap
    rather than fail, and report the size used in the callers' output)."""
    x, y = _as_features("real", real), _as_features("fake", fake)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sizes differ: real {x.shape[1]}, fake {y.shape[1]}")
    if num_subsets < 1 or subset_size < 2:
        raise ValueError(f"num_subsets >= 1 and subset_size >= 2 required, got {num_subsets}, {subset_size}")
    m = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    values = [mmd2_unbiased(x[rng.choice(len(x), m, replace=False)], y[rng.choice(len(y), m, replace=False)])
              for _ in range(num_subsets)]
    return float(np.mean(values)), float(np.std(values))

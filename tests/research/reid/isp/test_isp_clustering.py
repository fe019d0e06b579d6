"""Cascaded clustering (card check 4): zero-norm background + 6 horizontal bands of distinct directions
are recovered as pseudo-labels (ARI > 0.95 against the bands, scikit-learn's adjusted_rand_score), band
1 on top; the numpy K-means agrees with scikit-learn's; the enhancement formula."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from research.reid.isp import clustering


def _band_maps(rng, n=4, h=24, w=8, c=32, noise=0.05):
    directions = rng.normal(size=(6, c))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    maps = np.zeros((n, h, w, c))
    truth = np.zeros((n, h, w), np.int64)
    for i in range(n):
        top = 2 + i % 2  # rows 0-1 (or 0-2) and the last rows stay background (norm 0)
        for b in range(6):
            rows = slice(top + 3 * b, top + 3 * (b + 1))
            maps[i, rows, 1:w - 1] = directions[b] * rng.uniform(0.8, 1.2) + noise * rng.normal(size=(3, w - 2, c))
            truth[i, rows, 1:w - 1] = b + 1
    return maps, truth


def test_cascaded_clustering_recovers_the_bands():
    rng = np.random.default_rng(0)
    maps, truth = _band_maps(rng)
    labels = clustering.cluster_identity(maps, part_num=7, seed=0)
    assert labels.dtype == np.uint8 and labels.shape == truth.shape
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) > 0.95
    np.testing.assert_array_equal(labels[truth == 0], 0)  # zero-norm pixels are background
    # relabelled top to bottom: band k gets label k
    for b in range(1, 7):
        assert np.bincount(labels[truth == b], minlength=7).argmax() == b


def test_dataset_clusters_identity_by_identity():
    rng = np.random.default_rng(1)
    a, ta = _band_maps(rng, n=2)
    b, tb = _band_maps(rng, n=3)
    labels = clustering.cluster_dataset(np.concatenate([a, b]), np.array([3, 3, 7, 7, 7]), seed=0)
    truth = np.concatenate([ta, tb])
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) > 0.95


def test_numpy_kmeans_matches_sklearn_on_blobs():
    rng = np.random.default_rng(2)
    centres = rng.normal(scale=5, size=(5, 3))
    points = np.concatenate([c + rng.normal(scale=0.3, size=(40, 3)) for c in centres])
    ours = clustering.kmeans(points, 5, 20, seed=0)
    ref = KMeans(5, n_init=1, max_iter=20, random_state=0).fit(points).labels_
    assert adjusted_rand_score(ref, ours) == 1.0


def test_enhance_formula():
    n = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(clustering.enhance(n), 1.0 / (1.0 + np.exp(-5.0 * (2.0 * n - 1.0) - 3.0)))
    assert clustering.enhance(np.array([0.1]))[0] < 0.5 < clustering.enhance(np.array([0.3]))[0]  # midpoint at n = 0.2

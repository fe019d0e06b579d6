"""PointFlow generation metrics (official/evaluation/generation3d.py) against brute-force loops written from
the protocol's definitions, on random distance matrices and toy point-cloud sets (ShapeGF card check 6)."""

from __future__ import annotations

import numpy as np
import pytest

from official.evaluation import generation3d as g3


def _chamfer_np(a, b):
    d = ((a[:, :, None] - b[:, None]) ** 2).sum(-1)
    return d.min(2).mean(1) + d.min(1).mean(1)


def _brute_mmd_cov(d_sr):
    s, r = d_sr.shape
    mmd = np.mean([min(d_sr[i, j] for i in range(s)) for j in range(r)])
    covered = {min(range(r), key=lambda j: d_sr[i, j]) for i in range(s)}
    return mmd, len(covered) / r


def _brute_1nna(d_rr, d_rs, d_ss):
    r, s = len(d_rr), len(d_ss)
    clouds = [("r", i) for i in range(r)] + [("s", i) for i in range(s)]

    def dist(a, b):
        (ka, ia), (kb, ib) = a, b
        if ka == kb == "r":
            return d_rr[ia, ib]
        if ka == kb == "s":
            return d_ss[ia, ib]
        return d_rs[ia, ib] if ka == "r" else d_rs[ib, ia]

    right = 0
    for a in clouds:
        nearest = min((b for b in clouds if b != a), key=lambda b: dist(a, b))
        right += nearest[0] == a[0]
    return right / len(clouds)


def test_mmd_cov_and_1nna_equal_brute_force_on_random_matrices():
    rng = np.random.default_rng(0)
    for _ in range(3):
        r, s = rng.integers(3, 9, 2)
        d_rs = rng.uniform(size=(r, s))
        d_rr, d_ss = rng.uniform(size=(r, r)), rng.uniform(size=(s, s))
        d_rr, d_ss = d_rr + d_rr.T, d_ss + d_ss.T
        got = g3.mmd_cov(d_rs.T)
        mmd, cov = _brute_mmd_cov(d_rs.T)
        assert got["lgan_mmd"] == pytest.approx(mmd) and got["lgan_cov"] == pytest.approx(cov)
        assert g3.one_nn_accuracy(d_rr, d_rs, d_ss)["acc"] == pytest.approx(_brute_1nna(d_rr, d_rs, d_ss))


def test_edge_cases_identical_sets_and_separated_sets():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(6, 32, 3))
    # samples equal to the references: every reference covered, MMD 0
    d = g3.pairwise_distances(ref, ref, _chamfer_np)
    assert g3.mmd_cov(d) == {"lgan_mmd": 0.0, "lgan_cov": 1.0, "lgan_mmd_smp": 0.0}
    # one sample repeated: coverage 1 / R
    assert g3.mmd_cov(g3.pairwise_distances(ref[:1].repeat(4, 0), ref, _chamfer_np))["lgan_cov"] == pytest.approx(1 / 6)
    # far-apart sets are told apart perfectly: 1-NNA = 1
    far = ref + 100.0
    acc = g3.one_nn_accuracy(g3.pairwise_distances(ref, ref, _chamfer_np), g3.pairwise_distances(ref, far, _chamfer_np),
                             g3.pairwise_distances(far, far, _chamfer_np))
    assert acc == {"acc": 1.0, "acc_t": 1.0, "acc_f": 1.0}


def test_1nna_is_half_for_two_samplings_of_one_distribution():
    """Card check 6: two draws of one toy distribution (noisy spheres of random radius) give 1-NNA ~ 50%."""
    rng = np.random.default_rng(2)

    def draw(n):
        dirs = rng.normal(size=(n, 64, 3))
        dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
        return dirs * rng.uniform(0.2, 0.45, (n, 1, 1))

    ref, smp = draw(60), draw(60)
    out = g3.generation_metrics(smp, ref, {"CD": _chamfer_np}, jsd=True)
    assert abs(out["1-NN-CD-acc"] - 0.5) <= 0.1  # 120 clouds: the +-5% of the card widened to 2 s.d. of this toy
    shrunk = g3.generation_metrics(smp * 0.3, ref, {"CD": _chamfer_np})
    assert shrunk["1-NN-CD-acc"] > 0.9
    assert shrunk["jsd"] > 0.9 > out["jsd"] > 0.0  # sparse 28^3 histograms: same-distribution JSD is not 0


def test_jsd_matches_a_direct_histogram_and_is_symmetric():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(-0.5, 0.5, (4, 100, 3)), rng.normal(0, 0.15, (4, 100, 3))
    grid = g3.unit_sphere_grid(28)
    assert len(grid) == sum(1 for i in range(28) for j in range(28) for k in range(28)
                            if np.linalg.norm(np.array([i, j, k]) / 27 - 0.5) <= 0.5)

    def hist(x):  # brute force nearest cell
        d = ((x.reshape(-1, 1, 3) - grid[None]) ** 2).sum(-1)
        return np.bincount(d.argmin(1), minlength=len(grid))

    p, q = hist(a) / 400, hist(b) / 400
    m = (p + q) / 2
    kl = lambda x, y: np.sum(x[x > 0] * np.log2(x[x > 0] / y[x > 0]))  # noqa: E731
    want = 0.5 * kl(p, m) + 0.5 * kl(q, m)
    assert g3.jsd_between_point_cloud_sets(a, b) == pytest.approx(want, rel=1e-9)
    assert g3.jsd_between_point_cloud_sets(b, a) == pytest.approx(want, rel=1e-9)
    assert g3.jsd_between_point_cloud_sets(a, a) == pytest.approx(0.0, abs=1e-12)

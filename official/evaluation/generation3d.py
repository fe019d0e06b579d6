"""Point-cloud generation metrics of the PointFlow protocol (numpy): MMD, COV, 1-NNA and JSD.

Definitions follow PointFlow's / ShapeGF's evaluation/evaluation_metrics.py (facts, not code):
- distances between every generated shape s and reference shape r: CD (mean squared nearest-neighbour
  distance both ways, summed) and EMD (mean matched distance), as matrices d[s, r];
- MMD = mean over references of the distance to their nearest sample (`lgan_mmd`); COV = fraction of
  references that are the nearest reference of at least one sample (`lgan_cov`); `lgan_mmd_smp` = mean
  over samples of the distance to their nearest reference;
- 1-NNA: leave-one-out 1-nearest-neighbour classification of the union of references (label 1) and
  samples (label 0) under the distance; accuracy 0.5 is ideal, acc_t / acc_f per side;
- JSD (latent_3d_points): counts of points falling in each cell of a `resolution`^3 grid over the unit
  cube [-0.5, 0.5]^3 restricted to the unit sphere (nearest cell centre), normalised, Jensen-Shannon in bits.
Distances come from a callable, so CD / EMD implementations (official/losses) stay in one place.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

DistanceFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (B, N, 3), (B, N, 3) -> (B,)


def pairwise_distances(sample: np.ndarray, ref: np.ndarray, distance: DistanceFn, batch: int = 64) -> np.ndarray:
    """d[i, j] = distance(sample[i], ref[j]) as a (len(sample), len(ref)) float64 matrix."""
    out = np.zeros((len(sample), len(ref)), np.float64)
    for i, cloud in enumerate(sample):
        for start in range(0, len(ref), batch):
            block = ref[start:start + batch]
            out[i, start:start + len(block)] = np.asarray(distance(np.broadcast_to(cloud, block.shape), block))
    return out


def mmd_cov(d_sr: np.ndarray) -> dict[str, float]:
    """MMD and COV from the (samples, references) distance matrix."""
    d_sr = np.asarray(d_sr, np.float64)
    nearest_ref = np.argmin(d_sr, axis=1)  # per sample
    return {
        "lgan_mmd": float(np.min(d_sr, axis=0).mean()),
        "lgan_cov": float(len(np.unique(nearest_ref)) / d_sr.shape[1]),
        "lgan_mmd_smp": float(np.min(d_sr, axis=1).mean()),
    }


def one_nn_accuracy(d_rr: np.ndarray, d_rs: np.ndarray, d_ss: np.ndarray) -> dict[str, float]:
    """Leave-one-out 1-NN accuracy of telling references (d_rr, R x R) from samples (d_ss, S x S);
    d_rs is (R, S). Returns acc, acc_t (references right) and acc_f (samples right)."""
    r, s = d_rr.shape[0], d_ss.shape[0]
    full = np.block([[d_rr, d_rs], [np.transpose(d_rs), d_ss]]).astype(np.float64)
    np.fill_diagonal(full, np.inf)
    label = np.r_[np.ones(r), np.zeros(s)]
    pred = label[np.argmin(full, axis=0)]  # the label of each column's nearest other cloud
    right = pred == label
    return {"acc": float(right.mean()), "acc_t": float(right[:r].mean()), "acc_f": float(right[r:].mean())}


def unit_sphere_grid(resolution: int) -> np.ndarray:
    """Centres of a resolution^3 grid spanning [-0.5, 0.5]^3, those within radius 0.5 kept, (K, 3)."""
    ticks = np.arange(resolution, dtype=np.float64) / (resolution - 1) - 0.5
    grid = np.stack(np.meshgrid(ticks, ticks, ticks, indexing="ij"), -1).reshape(-1, 3)
    return grid[np.linalg.norm(grid, axis=1) <= 0.5]


def occupancy_counts(clouds: np.ndarray, resolution: int = 28) -> np.ndarray:
    """Points per grid cell (nearest in-sphere cell centre) summed over all clouds, (K,)."""
    from scipy.spatial import cKDTree

    grid = unit_sphere_grid(resolution)
    _, idx = cKDTree(grid).query(np.asarray(clouds, np.float64).reshape(-1, 3), k=1)
    return np.bincount(idx, minlength=len(grid)).astype(np.float64)


def jensen_shannon_bits(p: np.ndarray, q: np.ndarray) -> float:
    """JSD(P || Q) in bits of two non-negative histograms (normalised here)."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if np.any(p < 0) or np.any(q < 0) or p.shape != q.shape:
        raise ValueError("jensen_shannon_bits: histograms must be non-negative and of one length")
    p, q = p / p.sum(), q / q.sum()

    def entropy(x):
        x = x[x > 0]
        return float(-(x * np.log2(x)).sum())

    return entropy((p + q) / 2) - (entropy(p) + entropy(q)) / 2


def jsd_between_point_cloud_sets(sample: np.ndarray, ref: np.ndarray, resolution: int = 28) -> float:
    """The JSD of the two sets' grid-occupancy distributions (28^3 grid in the protocol)."""
    return jensen_shannon_bits(occupancy_counts(sample, resolution), occupancy_counts(ref, resolution))


def generation_metrics(sample: np.ndarray, ref: np.ndarray, distances: dict[str, DistanceFn],
                       batch: int = 64, jsd: bool = True) -> dict[str, float]:
    """All metrics for each named distance ("CD", "EMD"): lgan_mmd-CD, lgan_cov-CD, 1-NN-CD-acc, ... and jsd."""
    out: dict[str, float] = {}
    for name, fn in distances.items():
        d_rs = pairwise_distances(ref, sample, fn, batch)
        for k, v in mmd_cov(d_rs.T).items():
            out[f"{k}-{name}"] = v
        nn = one_nn_accuracy(pairwise_distances(ref, ref, fn, batch), d_rs, pairwise_distances(sample, sample, fn, batch))
        out.update({f"1-NN-{name}-{k}": v for k, v in nn.items()})
    if jsd:
        out["jsd"] = jsd_between_point_cloud_sets(sample, ref)
    return out

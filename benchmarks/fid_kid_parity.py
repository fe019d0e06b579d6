"""FID and KID of official/evaluation/gan_metrics.py against torch-fidelity's feature-to-metric functions on
random features (the math only; no Inception network).

    python benchmarks/fid_kid_parity.py --torch-fidelity DIR [--out PATH]
    (DIR: a folder holding the `torch_fidelity` package, e.g. `pip install --no-deps --target DIR
     torch_fidelity==0.4.0`; also $TORCH_FIDELITY_PATH. It is loaded from there and never committed.)

Compared, in float64 (the features go to torch-fidelity as float64 tensors, so both sides do the same
arithmetic) and once in float32 (torch-fidelity's usual input):
- FID: `fid_features_to_statistics` + `fid_statistics_to_metric` vs `fid_from_features`, for several
  (N, D) including N < D (singular covariances);
- KID, subset = whole set: `kid_features_to_metric(kid_subset_size=N)` vs `kid_from_features` (every
  subset is then a permutation, which the unbiased MMD^2 does not see, so the two must agree exactly);
- KID at the protocol settings (100 subsets of 1,000 - torch-fidelity's default; 1 subset of 256 -
  COCO-FUNIT's model selection): our `mmd2_unbiased` on the very subsets torch-fidelity draws
  (np.random.RandomState(rng_seed).choice, replayed here) vs its mean and std; and our own
  `kid_from_features` (its own draws) vs torch-fidelity, as a difference in units of the subsets' std.
torch-fidelity's package `__init__` imports torchvision (feature_extractor_clip.py, utils.py): where
torchvision does not import, the script records the error and exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks.common import write_json_atomically  # noqa: E402

FID_CASES = ((64, 8), (500, 64), (200, 512), (3000, 2048))  # (N per set, D); 200 < 512: singular covariances
KID_FULL_CASES = ((50, 16), (300, 128))
KID_PROTOCOLS = ((100, 1000, 2000, 2048), (1, 256, 600, 2048))  # (subsets, subset size, N per set, D)
SEED = 2020  # torch-fidelity's default rng_seed


def features(n: int, d: int, seed: int, dtype):
    """Real-like and shifted/scaled fake-like features (non-negative, like pool3 activations)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    real = np.abs(rng.normal(size=(n, d)) @ mix)
    fake = np.abs(1.1 * rng.normal(size=(n, d)) @ mix + 0.05)
    return real.astype(dtype), fake.astype(dtype)


def load_torch_fidelity(path: str):
    if path:
        sys.path.insert(0, path)
    from torch_fidelity import metric_fid, metric_kid

    return metric_fid, metric_kid


def compare(metric_fid, metric_kid, quick: bool) -> dict:
    import numpy as np
    import torch

    from official.evaluation import gan_metrics as ours

    out = {"fid": [], "kid_full_set": [], "kid_protocol": []}
    for dtype in ("float64", "float32"):
        for n, d in FID_CASES[:2] if quick else FID_CASES:
            real, fake = features(n, d, n + d, dtype)
            t0 = time.perf_counter()
            theirs = metric_fid.fid_statistics_to_metric(
                metric_fid.fid_features_to_statistics(torch.from_numpy(real)),
                metric_fid.fid_features_to_statistics(torch.from_numpy(fake)), verbose=False)["frechet_inception_distance"]
            mine = ours.fid_from_features(real, fake)
            out["fid"].append({"n": n, "d": d, "dtype": dtype, "torch_fidelity": theirs, "ours": mine,
                               "abs_diff": abs(theirs - mine), "rel_diff": abs(theirs - mine) / abs(theirs),
                               "seconds": time.perf_counter() - t0})
        for n, d in KID_FULL_CASES:
            real, fake = features(n, d, 7 * n + d, dtype)
            theirs = metric_kid.kid_features_to_metric(torch.from_numpy(real), torch.from_numpy(fake), kid_subsets=3,
                                                       kid_subset_size=n, verbose=False, rng_seed=SEED)
            mean, std = ours.kid_from_features(real, fake, num_subsets=3, subset_size=n)
            tm = theirs["kernel_inception_distance_mean"]
            out["kid_full_set"].append({"n": n, "d": d, "dtype": dtype, "torch_fidelity": tm, "ours": mean,
                                        "abs_diff": abs(tm - mean), "rel_diff": abs(tm - mean) / abs(tm),
                                        "ours_std": std, "torch_fidelity_std": theirs["kernel_inception_distance_std"]})
    for subsets, size, n, d in KID_PROTOCOLS[1:] if quick else KID_PROTOCOLS:
        real, fake = features(n, d, 3 * n + d, "float64")
        t0 = time.perf_counter()
        theirs = metric_kid.kid_features_to_metric(torch.from_numpy(real), torch.from_numpy(fake), kid_subsets=subsets,
                                                   kid_subset_size=size, verbose=False, rng_seed=SEED)
        rng = np.random.RandomState(SEED)  # torch-fidelity's draws, replayed: real subset, then fake subset
        replay = [ours.mmd2_unbiased(real[rng.choice(n, size, replace=False)], fake[rng.choice(n, size, replace=False)])
                  for _ in range(subsets)]
        own_mean, own_std = ours.kid_from_features(real, fake, num_subsets=subsets, subset_size=size, seed=0)
        tm, ts = theirs["kernel_inception_distance_mean"], theirs["kernel_inception_distance_std"]
        out["kid_protocol"].append({
            "subsets": subsets, "subset_size": size, "n": n, "d": d, "dtype": "float64",
            "torch_fidelity_mean": tm, "torch_fidelity_std": ts,
            "ours_on_their_subsets_mean": float(np.mean(replay)), "ours_on_their_subsets_std": float(np.std(replay)),
            "mean_abs_diff": abs(tm - float(np.mean(replay))), "std_abs_diff": abs(ts - float(np.std(replay))),
            "ours_own_draws_mean": own_mean, "ours_own_draws_std": own_std,
            "own_draws_diff_in_stds": abs(own_mean - tm) / ts if ts > 0 else None,
            "seconds": time.perf_counter() - t0})
    return out


def summary(out: dict) -> dict:
    def worst(rows, key, dtype="float64"):
        values = [r[key] for r in rows if r.get("dtype") == dtype]
        return max(values) if values else None

    return {"fid_max_rel_diff_float64": worst(out["fid"], "rel_diff"),
            "fid_max_rel_diff_float32_inputs": worst(out["fid"], "rel_diff", "float32"),
            "kid_full_set_max_abs_diff_float64": worst(out["kid_full_set"], "abs_diff"),
            "kid_full_set_max_abs_diff_float32_inputs": worst(out["kid_full_set"], "abs_diff", "float32"),
            "kid_protocol_max_mean_abs_diff": worst(out["kid_protocol"], "mean_abs_diff"),
            "kid_protocol_max_std_abs_diff": worst(out["kid_protocol"], "std_abs_diff")}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--torch-fidelity", default=os.environ.get("TORCH_FIDELITY_PATH", ""),
                   help="folder holding the torch_fidelity package (default $TORCH_FIDELITY_PATH; empty: sys.path)")
    p.add_argument("--quick", action="store_true", help="the two small FID cases and the 1x256 KID protocol only")
    p.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "fid_kid_parity.json"),
                   help="results JSON (written atomically)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    import platform

    import numpy as np

    args = parse_args(argv)
    result = {"host": platform.node(), "argv": sys.argv[1:], "numpy": np.__version__}
    try:
        metric_fid, metric_kid = load_torch_fidelity(args.torch_fidelity)
        import torch
        import torch_fidelity

        result.update(torch_fidelity=torch_fidelity.__version__, torch=torch.__version__)
    except Exception as err:  # torch-fidelity's __init__ imports torchvision
        result["import_error"] = f"{type(err).__name__}: {err}"
        print(f"torch_fidelity from {args.torch_fidelity or 'sys.path'} does not import: {result['import_error']}")
        write_json_atomically(result, args.out)
        return 1
    print(f"torch_fidelity {result['torch_fidelity']} from {os.path.dirname(os.path.dirname(metric_fid.__file__))}")
    result["cases"] = compare(metric_fid, metric_kid, args.quick)
    result["max_differences"] = summary(result["cases"])
    for key, value in result["max_differences"].items():
        print(f"  {key}: {value:.3g}" if value is not None else f"  {key}: -")
    write_json_atomically(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Re-ID CMC/mAP of `official/evaluation/reid.py` beside torchreid's `eval_market1501` (issue 13 item 4).

    python benchmarks/reid_parity.py [--reference .peer/reid/torchreid_rank_market.py] [--sets 50]
        [--out benchmarks/results/reid_parity.json]

The reference is `eval_market1501` of KaiyangZhou/deep-person-reid torchreid/metrics/rank.py (the pure
numpy path torchreid takes without its Cython build), a copy kept in the git-ignored .peer folder and
loaded by path, never part of this repository. Random sets: Gaussian identity centres, 20-80 queries,
100-400 gallery images, 2-6 cameras, continuous features (no equal distances: torchreid's unstable
argsort orders ties arbitrarily), squared Euclidean and cosine distances, CMC to rank 50.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from official.core.file_io import write_json  # noqa: E402
from official.evaluation import reid  # noqa: E402


def _reference(path: str):
    spec = importlib.util.spec_from_file_location("torchreid_rank_market", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.eval_market1501


def compare(eval_market1501, sets: int) -> dict:
    worst = {"mAP": 0.0, "cmc": 0.0}
    for seed in range(sets):
        rng = np.random.default_rng(seed)
        nq, ng = int(rng.integers(20, 80)), int(rng.integers(100, 400))
        ids, cams = int(rng.integers(5, 40)), int(rng.integers(2, 7))
        centres = rng.normal(size=(ids, 16))
        qp, gp = rng.integers(0, ids, nq), rng.integers(0, ids, ng)
        qf, gf = centres[qp] + rng.normal(size=(nq, 16)), centres[gp] + rng.normal(size=(ng, 16))
        qc, gc = rng.integers(0, cams, nq), rng.integers(0, cams, ng)
        for metric in reid.METRICS:
            d = reid.distance_matrix(qf, gf, metric)
            ours = reid.evaluate_rank(d, qp, gp, qc, gc, max_rank=50)
            cmc, mean_ap = eval_market1501(d, qp, gp, qc, gc, 50)
            worst["mAP"] = max(worst["mAP"], abs(ours["mAP"] - float(mean_ap)))
            worst["cmc"] = max(worst["cmc"], float(np.max(np.abs(np.asarray(ours["cmc"]) - cmc))))
    return {"sets": sets, "metrics": list(reid.METRICS), "max_abs_diff": worst,
            "reference": "torchreid/metrics/rank.py eval_market1501 (CMC in float32 there)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", default=os.path.join(REPO, ".peer", "reid", "torchreid_rank_market.py"),
                        help="Path of the copied torchreid eval_market1501 module.")
    parser.add_argument("--sets", type=int, default=50, help="Random query/gallery sets.")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "reid_parity.json"),
                        help="Result JSON.")
    args = parser.parse_args()
    result = compare(_reference(args.reference), args.sets)
    write_json(result, args.out, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

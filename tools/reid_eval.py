"""Re-ID ranking metrics (Market-1501 protocol) of saved query and gallery features.

    python -m tools.reid_eval --features FEATS.npz --json OUT.json [--metric euclidean|cosine]

FEATS.npz holds query_feats (Nq, D), query_pids (Nq,), query_camids (Nq,), gallery_feats (Ng, D),
gallery_pids (Ng,) and gallery_camids (Ng,) (`numpy.savez`). The protocol is official/evaluation/reid.py's:
gallery images of the query's identity and camera are removed, queries without a match are not scored.
Prints and writes {"mAP", "rank1", "rank5", "rank10"} as fractions (0-1), plus the scored query count.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np
from absl import flags

from official.core.errors import PathNotFoundError, UserError
from official.core.file_io import write_json
from official.evaluation.reid import METRICS, ReidInputError, check_inputs, distance_matrix, evaluate_rank
from tools import _cli

FLAGS = flags.FLAGS
KEYS = ("query_feats", "query_pids", "query_camids", "gallery_feats", "gallery_pids", "gallery_camids")


def define_flags() -> None:
    """Registers the flags; called only when the tool runs, so tools can be imported together."""
    flags.DEFINE_string("features", None, f"An .npz file with the arrays {', '.join(KEYS)}.")
    flags.DEFINE_string("json", None, "Where to write the metrics (via a temp name); optional.")
    flags.DEFINE_enum("metric", "euclidean", list(METRICS), "Distance between features: squared Euclidean or cosine.")
    flags.mark_flags_as_required(["features"])


class FeaturesError(UserError):
    """The features file is missing, unreadable or lacks an array; the message names the file."""


def load_features(path: str) -> dict[str, np.ndarray]:
    """The six arrays of `path`; errors name the file and the array."""
    if not os.path.isfile(path):
        raise PathNotFoundError(f"--features={path}: file does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in KEYS if k not in data.files]
            if missing:
                raise FeaturesError(f"{path}: missing array {missing[0]} (has {', '.join(data.files) or 'none'})")
            return {k: np.asarray(data[k]) for k in KEYS}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise FeaturesError(f"{path}: not a readable .npz file ({err})") from err


def run(path: str, metric: str = "euclidean") -> dict:
    arrays = load_features(path)
    try:
        check_inputs(arrays)
        distances = distance_matrix(arrays["query_feats"], arrays["gallery_feats"], metric)
        result = evaluate_rank(distances, arrays["query_pids"], arrays["gallery_pids"],
                               arrays["query_camids"], arrays["gallery_camids"])
    except ReidInputError as err:
        raise FeaturesError(f"{path}: {err}") from err
    return {k: result[k] for k in ("mAP", "rank1", "rank5", "rank10", "scored_queries", "queries")}


def main(argv: list[str]) -> None:
    del argv
    metrics = run(FLAGS.features, FLAGS.metric)
    print(f"{metrics['scored_queries']} of {metrics['queries']} queries scored ({FLAGS.metric} distance)")
    for key in ("mAP", "rank1", "rank5", "rank10"):
        print(f"  {key:<7s} {metrics[key]:.4f}")
    if FLAGS.json:
        write_json(metrics, FLAGS.json, indent=2)
        print(f"metrics written to {FLAGS.json}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

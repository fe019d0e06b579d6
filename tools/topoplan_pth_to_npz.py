"""One-off conversion of TopoPlan's graph files (Zenodo 4003445: SRC/{train,val}/*.pth, torch-pickled dicts)
to .npz files with the same keys, which official/data/topo_graphs.py reads without torch.

    pip install torch   # only here; the zoo itself never needs it
    python -m tools.topoplan_pth_to_npz --src=data/graph_data3_distance_weights --dst=data/graph_data3_npz

Tensors become arrays under their own key; other entries (ints, strings) are dropped and listed. Files are
read weights-only (no code runs from them). A file that does not load is counted, named and skipped; each
.npz is written under a temporary name and renamed when complete, and finished files are kept on a rerun.
"""

from __future__ import annotations

import glob
import os
import sys

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
SPLITS = ("train", "val")


def define_flags() -> None:
    flags.DEFINE_string("src", None, "Folder holding train/ and val/ with the .pth graph files.")
    flags.DEFINE_string("dst", None, "Output folder (train/ and val/ .npz files are written inside).")
    flags.DEFINE_integer("limit", 0, "Convert only the first n files of each split by name (0 = all).")


def _torch():
    try:
        import torch
    except ImportError:
        raise SystemExit("topoplan_pth_to_npz: reading the .pth graph files needs torch (pip install torch); "
                         "the converted .npz files do not") from None
    return torch


def graph_arrays(graph: dict) -> tuple[dict[str, np.ndarray], list[str]]:
    """(tensor entries as numpy arrays, names of the entries dropped)."""
    arrays, dropped = {}, []
    for key, value in graph.items():
        if hasattr(value, "detach"):
            arrays[str(key)] = value.detach().cpu().numpy()
        elif isinstance(value, np.ndarray):
            arrays[str(key)] = value
        else:
            dropped.append(str(key))
    return arrays, dropped


def convert_split(src: str, dst: str, split: str, limit: int = 0) -> tuple[int, list[str]]:
    """Converts SRC/SPLIT/*.pth into DST/SPLIT/*.npz; returns (files written or kept, failures)."""
    torch = _torch()
    files = sorted(glob.glob(os.path.join(src, split, "*.pth")))[: limit or None]
    os.makedirs(os.path.join(dst, split), exist_ok=True)
    done, failed = 0, []
    for path in files:
        out = os.path.join(dst, split, os.path.splitext(os.path.basename(path))[0] + ".npz")
        if os.path.exists(out):
            done += 1
            continue
        try:
            graph = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(graph, dict):
                raise TypeError(f"holds a {type(graph).__name__}, not a dict")
        except Exception as err:  # a corrupt or foreign file: name it and go on
            failed.append(f"{path} ({type(err).__name__}: {str(err)[:80]})")
            continue
        arrays, _ = graph_arrays(graph)
        tmp = out + ".tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, out)
        done += 1
    return done, failed


def convert(src: str, dst: str, limit: int = 0) -> dict[str, tuple[int, list[str]]]:
    """Both splits; a missing SRC/train and SRC/val is an error naming the folder."""
    present = [s for s in SPLITS if os.path.isdir(os.path.join(src, s))]
    if not present:
        raise FileNotFoundError(f"{src}: no train/ or val/ folder of .pth graph files")
    return {split: convert_split(src, dst, split, limit) for split in present}


def main(argv: list[str]) -> None:
    del argv
    if not FLAGS.src or not FLAGS.dst:
        sys.exit("topoplan_pth_to_npz: --src and --dst are required")
    try:
        results = convert(FLAGS.src, FLAGS.dst, FLAGS.limit)
    except OSError as err:
        sys.exit(f"topoplan_pth_to_npz: {err}")
    for split, (done, failed) in results.items():
        print(f"{split}: {done} graphs in {os.path.join(FLAGS.dst, split)}; {len(failed)} unreadable")
        for line in failed[:10]:
            print(f"  skipped {line}")


if __name__ == "__main__":
    define_flags()
    app.run(main)

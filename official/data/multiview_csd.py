"""Per-instance multi-view features in CMU-MultimodalSDK "computational sequence" files (.csd, HDF5).

Layout (mmsdk computational_sequence file_ops; CMU-MOSI / MOSEI / IEMOCAP feature releases):
    ROOT/<view>.csd     HDF5: /<root name>/data/<entry id>/features (T, D) float, .../intervals (T, 2) float,
                        /<root name>/metadata (strings); one file per view (modality)
    ROOT/<labels>.csd   the same layout; features (T, 1) hold the entry's class id (row 0)
    ROOT/folds/<split>.txt   entry ids of a split, one per line, in order (the SDK's standard folds)
A view's T segments are averaged (the SDK's usual "avg" collapse to one vector per utterance).
Entries missing from a view or the labels, with another width than the others, with non-finite values or
a label outside 0..num_classes-1 are counted per reason, logged and skipped; a missing file, root group,
`data` group, `features` dataset or fold file is a one-line CsdFormatError / PathNotFoundError naming it.
`write_csd` writes the layout (tools.make_multiview_features, test fixtures) to a temp name, then renames.
"""

from __future__ import annotations

import logging
import os
from collections import Counter

import numpy as np

from official.core.errors import PathNotFoundError, UserError

log = logging.getLogger(__name__)


class CsdFormatError(UserError, ValueError):
    """A .csd file or fold list that does not follow the layout; the message names the file and the field."""


def _root_group(f, path: str):
    roots = list(f.keys())
    if len(roots) != 1:
        raise CsdFormatError(f"{path}: expected one root group (the sequence name), found {roots}")
    root = f[roots[0]]
    if "data" not in root:
        raise CsdFormatError(f"{path}: root group '{roots[0]}' has no 'data' group")
    return root["data"]


def read_csd(path: str) -> dict[str, np.ndarray]:
    """{entry id: features (T, D) float32} of one computational sequence."""
    import h5py

    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: computational sequence file does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise CsdFormatError(f"{path}: not an HDF5 file ({err})") from err
    with f:
        data = _root_group(f, path)
        out = {}
        for entry in data:
            if "features" not in data[entry]:
                raise CsdFormatError(f"{path}: data/{entry} has no 'features' dataset")
            out[entry] = np.asarray(data[entry]["features"], np.float32)
    return out


def write_csd(path: str, root_name: str, entries: dict[str, np.ndarray], description: str = "") -> None:
    """Writes {id: features (T, D)} as a computational sequence (intervals 0..T seconds), atomically."""
    import h5py

    tmp = f"{path}.tmp-{os.getpid()}"
    with h5py.File(tmp, "w") as f:
        root = f.create_group(root_name)
        data = root.create_group("data")
        for entry, feats in entries.items():
            feats = np.asarray(feats, np.float32).reshape(len(feats), -1)
            group = data.create_group(entry)
            group.create_dataset("features", data=feats)
            t = np.arange(len(feats), dtype=np.float32)
            group.create_dataset("intervals", data=np.stack([t, t + 1.0], 1))
        meta = root.create_group("metadata")
        meta.create_dataset("root name", data=root_name)
        meta.create_dataset("computational sequence description", data=description or root_name)
    os.replace(tmp, path)


def read_fold(root: str, split: str) -> list[str]:
    path = os.path.join(root, "folds", f"{split}.txt")
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: fold list of split '{split}' does not exist")
    with open(path, encoding="utf-8") as f:
        ids = [line.strip() for line in f if line.strip()]
    if not ids:
        raise CsdFormatError(f"{path}: fold list is empty")
    return ids


def load_views(
    root: str, split: str, views: tuple[str, ...], labels: str = "labels", num_classes: int = 0
) -> tuple[list[np.ndarray], np.ndarray, list[str], Counter]:
    """([view (N, D_m) float32], labels (N,) int64, ids, skipped counts) of one split, in fold order."""
    ids = read_fold(root, split)
    sequences = {v: read_csd(os.path.join(root, f"{v}.csd")) for v in views}
    label_seq = read_csd(os.path.join(root, f"{labels}.csd"))
    widths = {}
    for v, seq in sequences.items():  # the width most entries have is the view's width
        shapes = Counter(x.shape[-1] for x in seq.values() if x.ndim == 2)
        widths[v] = shapes.most_common(1)[0][0] if shapes else 0
    rows: dict[str, list] = {v: [] for v in views}
    kept_ids, ys, skipped = [], [], Counter()
    for entry in ids:
        reason, vecs = None, {}
        for v in views:
            x = sequences[v].get(entry)
            if x is None:
                reason = f"missing_{v}"
            elif x.ndim != 2 or x.shape[0] == 0 or x.shape[1] != widths[v]:
                reason = f"bad_shape_{v}"
            elif not np.all(np.isfinite(x)):
                reason = f"non_finite_{v}"
            else:
                vecs[v] = x.mean(axis=0)
            if reason:
                break
        y = label_seq.get(entry)
        if reason is None:
            if y is None or y.size == 0 or not np.isfinite(y.flat[0]) or y.flat[0] != int(y.flat[0]):
                reason = "bad_label"
            elif y.flat[0] < 0 or (num_classes and y.flat[0] >= num_classes):
                reason = "bad_label"
        if reason:
            skipped[reason] += 1
            continue
        for v in views:
            rows[v].append(vecs[v])
        ys.append(int(y.flat[0]))
        kept_ids.append(entry)
    if skipped:
        log.warning("%s (%s): skipped %d of %d entries: %s", root, split, sum(skipped.values()), len(ids),
                    ", ".join(f"{k} {n}" for k, n in sorted(skipped.items())))
    if not kept_ids:
        raise CsdFormatError(f"{os.path.join(root, 'folds', split + '.txt')}: no entry has every view and a label "
                             f"({dict(skipped)})")
    arrays = [np.stack(rows[v]).astype(np.float32) for v in views]
    return arrays, np.array(ys, np.int64), kept_ids, skipped

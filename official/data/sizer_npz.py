"""SIZER's training files (the authors' .npz layouts): SizerNet's, read as (input size, output size) pairs,
and ParserNet's (`load_parser_npz`: reg, UpperClothes | Pants, betas, pose, trans).

One file holds N subjects, each scanned in 3 sizes k = 0, 1, 2 (spec card "Data"):
  pose_upper{k} (N, V, 3)  registered garment vertices (SMPL+G topology, posed, metres)
  betas{k} (N, >= 10)      SMPL shape (the first 10; like the code's SizerData, pairs use the mean of the 3)
  pose{k} (N, 72), trans{k} (N, 3), size{k} (N,) int 0..3 (S, M, L, XL); scan_name{k} optional.
Like `train_sizer.py` every subject gives all 9 (input k, output j) pairs: input garment g_k with size_k,
desired size_j, target g_j with pose_j / trans_j (i outer, j inner). A subject with a non-finite value
or a size label outside 0..3 is counted, logged and skipped; a missing file or key, or a wrong shape,
is a one-line `SizerDataError` naming the file and the key.
"""

from __future__ import annotations

import logging
import os
import zipfile

import numpy as np

from official.core.errors import UserError

log = logging.getLogger(__name__)

NUM_SIZES = 4
NUM_BETAS = 10
FIELDS = ("pose_upper", "betas", "pose", "trans", "size")


class SizerDataError(UserError, ValueError):
    """A SIZER .npz is missing, unreadable, lacks a key or has a wrong shape (the message names both)."""


def _check(path, key, value, shape):
    if value.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, value.shape, strict=True)):
        want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        raise SizerDataError(f"{path}: key '{key}' has shape {value.shape}, expected {want}")


def load_sizer_npz(path: str) -> dict[str, np.ndarray]:
    """{pose_upper0..2, betas0..2 (first 10), pose0..2, trans0..2, size0..2} of the valid subjects."""
    if not os.path.isfile(path):
        raise SizerDataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            present = set(data.files)
            out = {}
            for k in range(3):
                for field in FIELDS:
                    key = f"{field}{k}"
                    if key not in present:
                        raise SizerDataError(f"{path}: missing key '{key}' (needs {', '.join(f + '0..2' for f in FIELDS)})")
                    out[key] = np.asarray(data[key])
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        if isinstance(err, SizerDataError):
            raise
        raise SizerDataError(f"{path}: not a readable .npz ({err})") from None
    n, v = out["pose_upper0"].shape[:2] if out["pose_upper0"].ndim == 3 else (None, None)
    for k in range(3):
        _check(path, f"pose_upper{k}", out[f"pose_upper{k}"], (n, v, 3))
        _check(path, f"betas{k}", out[f"betas{k}"], (n, None))
        if out[f"betas{k}"].shape[1] < NUM_BETAS:
            raise SizerDataError(f"{path}: key 'betas{k}' has {out[f'betas{k}'].shape[1]} coefficients, needs >= 10")
        out[f"betas{k}"] = out[f"betas{k}"][:, :NUM_BETAS]
        _check(path, f"pose{k}", out[f"pose{k}"], (n, 72))
        _check(path, f"trans{k}", out[f"trans{k}"], (n, 3))
        _check(path, f"size{k}", out[f"size{k}"], (n,))
    ok = np.ones(n, bool)
    for k in range(3):
        for field in FIELDS[:-1]:
            ok &= np.isfinite(out[f"{field}{k}"].reshape(n, -1)).all(axis=1)
        ok &= (out[f"size{k}"] >= 0) & (out[f"size{k}"] < NUM_SIZES)
    if not ok.all():
        log.warning("%s: skipped %d of %d subjects (non-finite values or size labels outside 0..3): %s",
                    path, int((~ok).sum()), n, np.nonzero(~ok)[0][:10].tolist())
    return {k: (a[ok].astype(np.int32) if k.startswith("size") else a[ok].astype(np.float32)) for k, a in out.items()}


def sizer_pairs(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The 9 (input, output) pairs per subject as flat arrays (N * 9, ...), subject-major like the code.

    Keys: garment (input garment), size_in / size_out (one-hot, 4), betas, pose, trans (the output scan's),
    target (the output-size garment), size_in_label / size_out_label (int).
    """
    keys = {"garment": [], "target": [], "size_in_label": [], "size_out_label": [], "betas": [], "pose": [], "trans": []}
    betas = (data["betas0"] + data["betas1"] + data["betas2"]) / 3.0  # SizerData: one shape per subject
    for i in range(3):
        for j in range(3):
            keys["garment"].append(data[f"pose_upper{i}"])
            keys["target"].append(data[f"pose_upper{j}"])
            keys["size_in_label"].append(data[f"size{i}"])
            keys["size_out_label"].append(data[f"size{j}"])
            keys["betas"].append(betas)
            keys["pose"].append(data[f"pose{j}"])
            keys["trans"].append(data[f"trans{j}"])
    out = {k: np.stack(v, axis=1).reshape(-1, *v[0].shape[1:]) for k, v in keys.items()}  # (N, 9, ...) -> (9N, ...)
    eye = np.eye(NUM_SIZES, dtype=np.float32)
    out["size_in"], out["size_out"] = eye[out["size_in_label"]], eye[out["size_out_label"]]
    return out


def sizer_dataset(paths: str | list[str], batch_size: int = 36, shuffle: bool = False, seed: int = 0,
                  drop_remainder: bool = False):
    """tf.data.Dataset of batched pair dicts (sizer_pairs' keys) from one or more .npz files.

    batch_size 36 = the code's 4 subjects x 9 pairs; shuffle mixes pairs across subjects.
    """
    import tensorflow as tf

    paths = [paths] if isinstance(paths, str) else list(paths)
    loaded = [sizer_pairs(load_sizer_npz(p)) for p in paths]
    shapes = {loaded[0]["garment"].shape[1:]} | {d["garment"].shape[1:] for d in loaded}
    if len(shapes) > 1:
        raise SizerDataError(f"{paths[-1]}: key 'pose_upper0' has garment shape {sorted(shapes)[-1]}, "
                             f"other files {sorted(shapes)[0]}")
    pairs = {k: np.concatenate([d[k] for d in loaded]) for k in loaded[0]}
    ds = tf.data.Dataset.from_tensor_slices(pairs)
    if shuffle:
        ds = ds.shuffle(len(pairs["garment"]), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder)


PARSER_LAYERS = ("UpperClothes", "Pants")


def load_parser_npz(path: str, layer: str = "UpperClothes") -> dict[str, np.ndarray]:
    """The code's ParserNet .npz: {reg (N, V, 3) registered clothed body, <layer> (N, V_l, 3) garment,
    betas (N, 10), pose (N, 72), trans (N, 3)}; records with non-finite values are counted and skipped."""
    if layer not in PARSER_LAYERS:
        raise SizerDataError(f"{path}: layer '{layer}' is not one of {', '.join(PARSER_LAYERS)}")
    if not os.path.isfile(path):
        raise SizerDataError(f"{path}: no such file")
    keys = ("reg", layer, "betas", "pose", "trans")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            if missing:
                raise SizerDataError(f"{path}: missing key '{missing[0]}' (needs {', '.join(keys)})")
            out = {k: np.asarray(data[k]) for k in keys}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        if isinstance(err, SizerDataError):
            raise
        raise SizerDataError(f"{path}: not a readable .npz ({err})") from None
    n = out["reg"].shape[0] if out["reg"].ndim == 3 else None
    _check(path, "reg", out["reg"], (n, None, 3))
    _check(path, layer, out[layer], (n, None, 3))
    _check(path, "betas", out["betas"], (n, None))
    _check(path, "pose", out["pose"], (n, 72))
    _check(path, "trans", out["trans"], (n, 3))
    out["betas"] = out["betas"][:, :NUM_BETAS]
    ok = np.ones(n, bool)
    for k in keys:
        ok &= np.isfinite(out[k].reshape(n, -1)).all(axis=1)
    if not ok.all():
        log.warning("%s: skipped %d of %d records (non-finite values): %s", path, int((~ok).sum()), n,
                    np.nonzero(~ok)[0][:10].tolist())
    return {k: v[ok].astype(np.float32) for k, v in out.items()}

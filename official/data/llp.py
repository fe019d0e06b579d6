"""LLP (Look, Listen and Parse; Tian et al., ECCV 2020) on disk -> tf.data of per-second features and labels.

Layout (YapengTian/AVVP-ECCV20 data/ and its feature archive):
    ROOT/AVVP_train.csv, AVVP_val_pd.csv, AVVP_test_pd.csv   tab-separated, header `filename  event_labels`,
        rows `BjCEufrlXm4_20_30  Speech,Dog` (weak, video-level labels; class names of LLP_CLASSES)
    ROOT/AVVP_eval_audio.csv, AVVP_eval_visual.csv           header `filename  onset  offset  event_labels`,
        one event per row, integer seconds 0 <= onset < offset <= 10 (dense labels of val and test videos)
    ROOT/feats/vggish/<id>.npy (10, 128), feats/res152/<id>.npy (80, 2048), feats/r2plus1d_18/<id>.npy
        (10, 512), <id> = the first 11 characters of the filename (the YouTube id)
Elements: ({"audio", "video_2d", "video_3d"} float32, targets) with targets = the weak labels (C,) when
training, else {"label" (C,), "gt_audio" (C, T), "gt_visual" (C, T)} (dense ground truth; all zeros for a
video without dense rows, as main_avvp.eval). Rows with an unknown class, an empty label, a bad onset /
offset, or a missing or wrongly shaped feature file are counted per reason, logged and skipped; a missing
file or column is a one-line LlpFormatError / PathNotFoundError naming the file and the field.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
from collections import Counter

import numpy as np

from official.core.errors import PathNotFoundError, UserError

log = logging.getLogger(__name__)

# dataloader.py ids_to_multinomial's fixed order
LLP_CLASSES = ("Speech", "Car", "Cheering", "Dog", "Cat", "Frying_(food)", "Basketball_bounce", "Fire_alarm",
               "Chainsaw", "Cello", "Banjo", "Singing", "Chicken_rooster", "Violin_fiddle", "Vacuum_cleaner",
               "Baby_laughter", "Accordion", "Lawn_mower", "Motorcycle", "Helicopter", "Acoustic_guitar",
               "Telephone_bell_ringing", "Baby_cry_infant_cry", "Blender", "Clapping")
SPLIT_CSV = {"train": "AVVP_train.csv", "val": "AVVP_val_pd.csv", "test": "AVVP_test_pd.csv"}
DENSE_CSV = {"audio": "AVVP_eval_audio.csv", "visual": "AVVP_eval_visual.csv"}
FEATURE_DIRS = {"audio": "feats/vggish", "video_2d": "feats/res152", "video_3d": "feats/r2plus1d_18"}


class LlpFormatError(UserError, ValueError):
    """An LLP file that does not follow the layout; the message names the file and the field."""


@dataclasses.dataclass
class LlpVideo:
    filename: str  # e.g. BjCEufrlXm4_20_30
    label: np.ndarray  # (C,) weak labels
    features: dict[str, str]  # modality -> .npy path


def _rows(path: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: LLP annotation file does not exist")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t")
        header = reader.fieldnames or []
        for column in columns:
            if column not in header:
                raise LlpFormatError(f"{path}: header has no '{column}' column (tab-separated; found {header})")
        return list(reader)


def _labels(text: str | None, classes: tuple[str, ...]) -> np.ndarray | None:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    if not names or any(n not in classes for n in names):
        return None
    y = np.zeros(len(classes), np.float32)
    y[[classes.index(n) for n in names]] = 1.0
    return y


def read_weak_labels(path: str, classes: tuple[str, ...] = LLP_CLASSES) -> tuple[list[tuple[str, np.ndarray]], Counter]:
    """(filename, labels (C,)) of a weak-label CSV and a Counter of skipped rows per reason."""
    out, skipped = [], Counter()
    for row in _rows(path, ("filename", "event_labels")):
        y = _labels(row["event_labels"], classes)
        if not row["filename"] or y is None:
            skipped["bad_labels"] += 1
            continue
        out.append((row["filename"], y))
    return out, skipped


def read_dense_labels(path: str, classes: tuple[str, ...] = LLP_CLASSES, segments: int = 10) -> tuple[dict, Counter]:
    """{filename: [(onset, offset, class index)]} of an eval CSV and a Counter of skipped rows per reason."""
    events: dict[str, list[tuple[int, int, int]]] = {}
    skipped = Counter()
    for row in _rows(path, ("filename", "onset", "offset", "event_labels")):
        name = (row["event_labels"] or "").strip()
        try:
            onset, offset = int(row["onset"]), int(row["offset"])
        except (TypeError, ValueError):
            skipped["bad_onset_offset"] += 1
            continue
        if not 0 <= onset < offset <= segments:
            skipped["bad_onset_offset"] += 1
        elif name not in classes:
            skipped["unknown_class"] += 1
        else:
            events.setdefault(row["filename"], []).append((onset, offset, classes.index(name)))
    return events, skipped


def dense_matrix(events: list[tuple[int, int, int]], num_classes: int = 25, segments: int = 10) -> np.ndarray:
    """Binary (C, T) matrix of (onset, offset, class) events (GT_a / GT_v of main_avvp.eval)."""
    m = np.zeros((num_classes, segments), np.float32)
    for onset, offset, c in events:
        m[c, onset:offset] = 1.0
    return m


def _npy_shape(path: str) -> tuple[int, ...] | None:
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, _ = read(f)
        return tuple(shape)
    except (OSError, ValueError):
        return None


def feature_shapes(segments: int = 10, frames_per_segment: int = 8, audio_dim: int = 128, video_2d_dim: int = 2048,
                   video_3d_dim: int = 512) -> dict[str, tuple[int, int]]:
    return {"audio": (segments, audio_dim), "video_2d": (segments * frames_per_segment, video_2d_dim),
            "video_3d": (segments, video_3d_dim)}


def list_videos(root: str, split: str, shapes: dict[str, tuple[int, int]], feature_dirs: dict[str, str] | None = None,
                csv_name: str = "", classes: tuple[str, ...] = LLP_CLASSES) -> tuple[list[LlpVideo], Counter]:
    """The split's readable videos (features present with the expected shapes) and skipped rows per reason."""
    if split not in SPLIT_CSV and not csv_name:
        raise LlpFormatError(f"split={split!r}: one of {sorted(SPLIT_CSV)} (or set the CSV file name)")
    path = os.path.join(root, csv_name or SPLIT_CSV[split])
    rows, skipped = read_weak_labels(path, classes)
    dirs = {k: os.path.join(root, v) for k, v in {**FEATURE_DIRS, **(feature_dirs or {})}.items()}
    for modality, folder in dirs.items():
        if not os.path.isdir(folder):
            raise PathNotFoundError(f"{folder}: LLP feature folder for '{modality}' does not exist")
    videos = []
    for filename, y in rows:
        files = {m: os.path.join(dirs[m], filename[:11] + ".npy") for m in shapes}
        found = {m: _npy_shape(p) for m, p in files.items()}
        missing = [m for m, s in found.items() if s is None]
        if missing:
            skipped[f"missing_{missing[0]}"] += 1
        elif any(found[m] != tuple(shapes[m]) for m in shapes):
            skipped["feature_shape"] += 1
        else:
            videos.append(LlpVideo(filename, y, files))
    if skipped:
        log.warning("llp: %d of %d %s rows skipped: %s", sum(skipped.values()), len(rows) + sum(skipped.values()),
                    os.path.basename(path), dict(skipped))
    if not videos:
        raise LlpFormatError(f"{path}: no usable video (skipped: {dict(skipped) or 'none listed'})")
    return videos, skipped


def dense_ground_truth(root: str, videos: list[LlpVideo], segments: int = 10,
                       classes: tuple[str, ...] = LLP_CLASSES) -> tuple[np.ndarray, np.ndarray, Counter]:
    """(N, C, T) audio and visual ground truth of `videos` from the two eval CSVs (+ skipped rows)."""
    skipped = Counter()
    out = []
    for modality in ("audio", "visual"):
        events, bad = read_dense_labels(os.path.join(root, DENSE_CSV[modality]), classes, segments)
        skipped.update({f"{modality}_{k}": v for k, v in bad.items()})
        out.append(np.stack([dense_matrix(events.get(v.filename, []), len(classes), segments) for v in videos]))
    if skipped:
        log.warning("llp: dense rows skipped: %s", dict(skipped))
    return out[0], out[1], skipped


def _load(path) -> np.ndarray:
    return np.asarray(np.load(path.decode() if isinstance(path, bytes) else str(path)), np.float32)


def llp_dataset(videos: list[LlpVideo], shapes: dict[str, tuple[int, int]], training: bool, seed: int = 0,
                dense: tuple[np.ndarray, np.ndarray] | None = None, shuffle_buffer: int = 10_000):
    """tf.data of (features dict, weak labels) when training; with `dense`, targets are a dict (module docstring)."""
    import tensorflow as tf

    modalities = tuple(shapes)
    paths = {m: [v.features[m] for v in videos] for m in modalities}
    targets = np.stack([v.label for v in videos])
    if dense is not None:
        targets = {"label": targets, "gt_audio": dense[0], "gt_visual": dense[1]}
    ds = tf.data.Dataset.from_tensor_slices((paths, targets))
    if training:
        ds = ds.shuffle(min(len(videos), shuffle_buffer), seed=seed, reshuffle_each_iteration=True).repeat()

    def load(files, y):
        feats = {}
        for m in modalities:
            x = tf.numpy_function(_load, [files[m]], tf.float32, stateful=False)
            feats[m] = tf.ensure_shape(x, shapes[m])
        return feats, y

    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not training)

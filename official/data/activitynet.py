"""ActivityNet v1.3 annotations (JSON), detection results (JSON) and per-second clip-feature CSVs.

On disk (the challenge's and the AherNet/BSN repos' formats):
- ground truth `{"version", "taxonomy", "database": {video_id: {"subset", "duration", "url",
  "resolution", "annotations": [{"segment": [start_s, end_s], "label": name}, ...]}}}`;
- predictions `{"version", "external_data", "results": {video_id: [{"label", "score",
  "segment": [s, e]}, ...]}}`;
- features `FEATURE_DIR/<video_id>.csv`: a header row (`f0,f1,...`) then one row of D floats per
  feature step (one per second, or per 16 frames), the repo's "T rows x 2048 columns".

`read_ground_truth` / `read_predictions` are strict (the evaluator's input): a wrong path or schema is a
`ActivityNetFormatError` naming the file and the field. `load_videos` is the training reader's index:
a video record that is malformed (no duration, a bad segment, an unknown label, a missing or
wrong-width feature file) is logged, skipped and counted per reason; a wrong path or top-level schema is
still an error. `activitynet_dataset` turns the index into a `tf.data.Dataset` of dicts with the features
resampled to `temporal_length` steps (linear interpolation over the video) and the segments in those
steps, padded to `max_segments` rows (label -1).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from absl import logging

from official.core.errors import PathNotFoundError, UserError

SKIP_REASONS = ("bad_record", "no_segments", "missing_features", "bad_features")
_MAX_LOGGED = 20


class ActivityNetFormatError(UserError, ValueError):
    """A malformed ActivityNet JSON or feature file; the message names the file and the field."""


def read_json(path: str) -> Any:
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: no such file")
    try:
        with open(path) as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ActivityNetFormatError(f"{path}: not valid JSON ({err})") from err


def _segment(value: Any) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError("'segment' must be [start, end]")
    start, end = float(value[0]), float(value[1])
    if not (np.isfinite(start) and np.isfinite(end)):
        raise ValueError("'segment' must be finite")
    return start, end


def _check_video(entry: Any, need_duration: bool) -> None:
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    for key in ("subset", "annotations") + (("duration",) if need_duration else ()):
        if key not in entry:
            raise ValueError(f"missing '{key}'")
    if not isinstance(entry["annotations"], list):
        raise ValueError("'annotations' must be a list")
    for i, ann in enumerate(entry["annotations"]):
        if not isinstance(ann, dict) or "label" not in ann or "segment" not in ann:
            raise ValueError(f"annotations[{i}]: needs 'label' and 'segment'")
        try:
            _segment(ann["segment"])
        except (TypeError, ValueError) as err:
            raise ValueError(f"annotations[{i}]: {err}") from None


def read_ground_truth(path: str) -> dict:
    """The ground-truth JSON, checked field by field (strict: the first bad field is an error)."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("database"), dict):
        raise ActivityNetFormatError(f"{path}: missing field 'database' (an object of videos)")
    for video, entry in data["database"].items():
        try:
            _check_video(entry, need_duration=False)
        except ValueError as err:
            raise ActivityNetFormatError(f"{path}: database['{video}']: {err}") from None
    return data


def read_predictions(path: str) -> dict:
    """The detection results JSON, checked field by field."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise ActivityNetFormatError(f"{path}: missing field 'results' (an object of videos)")
    for video, results in data["results"].items():
        if not isinstance(results, list):
            raise ActivityNetFormatError(f"{path}: results['{video}']: must be a list")
        for i, r in enumerate(results):
            where = f"{path}: results['{video}'][{i}]"
            if not isinstance(r, dict):
                raise ActivityNetFormatError(f"{where}: not an object")
            for key in ("label", "score", "segment"):
                if key not in r:
                    raise ActivityNetFormatError(f"{where}: missing '{key}'")
            try:
                _segment(r["segment"])
                float(r["score"])
            except (TypeError, ValueError) as err:
                raise ActivityNetFormatError(f"{where}: {err}") from None
    return data


def read_feature_csv(path: str) -> np.ndarray:
    """(T, D) float32 of a per-step feature CSV (header row + T rows)."""
    try:
        return np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
    except OSError as err:
        raise PathNotFoundError(f"{path}: no such file") from err
    except ValueError as err:
        raise ActivityNetFormatError(f"{path}: malformed feature rows ({err})") from err


def write_feature_csv(path: str, features: np.ndarray) -> None:
    """Writes (T, D) features with the `f0,...` header, via a temp name."""
    features = np.asarray(features, np.float32)
    tmp = path + ".tmp"
    header = ",".join(f"f{i}" for i in range(features.shape[1]))
    np.savetxt(tmp, features, delimiter=",", header=header, comments="", fmt="%.6g")
    os.replace(tmp, path)


@dataclass
class VideoRecord:
    """One usable video: its id, duration (s), segments (n, 2) in seconds and class ids (n,)."""

    video_id: str
    duration: float
    segments: np.ndarray
    labels: np.ndarray
    feature_path: str = ""


@dataclass
class ActivityNetVideos:
    """The index of a subset: records, class names (index = class id) and skipped ids per reason."""

    records: list[VideoRecord]
    classes: list[str]
    skipped_ids: dict[str, list[str]] = field(default_factory=dict)

    @property
    def skipped(self) -> dict[str, int]:
        return {reason: len(ids) for reason, ids in self.skipped_ids.items()}


def feature_header_width(path: str) -> int:
    with open(path) as f:
        header = f.readline().strip()
    return len(header.split(",")) if header else 0


def load_videos(
    json_path: str,
    subset: str = "training",
    classes: list[str] | None = None,
    feature_dir: str | None = None,
    feature_dim: int | None = None,
) -> ActivityNetVideos:
    """Index of the `subset` videos with at least one valid segment (and a feature file if asked).

    `classes` fixes the class ids (default: the sorted labels of the subset); segments are clipped to
    [0, duration]; an annotation with an unknown label or an empty clipped segment makes the video's
    record bad. With `feature_dir`, `<feature_dir>/<video_id>.csv` must exist and have `feature_dim`
    header columns.
    """
    data = read_json(json_path)
    if not isinstance(data, dict) or not isinstance(data.get("database"), dict):
        raise ActivityNetFormatError(f"{json_path}: missing field 'database' (an object of videos)")
    if feature_dir is not None and not os.path.isdir(feature_dir):
        raise PathNotFoundError(f"{feature_dir}: no such feature folder")
    database = data["database"]
    chosen = {v: e for v, e in database.items() if isinstance(e, dict) and e.get("subset") == subset}
    if classes is None:
        classes = sorted({a.get("label") for e in chosen.values() for a in e.get("annotations", [])
                          if isinstance(a, dict) and isinstance(a.get("label"), str)})
    class_index = {name: i for i, name in enumerate(classes)}
    skipped_ids: dict[str, list[str]] = {r: [] for r in SKIP_REASONS}

    def skip(reason: str, video: str, message: str) -> None:
        skipped_ids[reason].append(video)
        if len(skipped_ids[reason]) <= _MAX_LOGGED:
            logging.warning("ActivityNet video %s skipped (%s): %s", video, reason, message)

    records = []
    for video, entry in chosen.items():
        try:
            _check_video(entry, need_duration=True)
            duration = float(entry["duration"])
            if not duration > 0:
                raise ValueError(f"'duration' must be > 0, got {entry['duration']!r}")
            segs, labels = [], []
            for i, ann in enumerate(entry["annotations"]):
                if ann["label"] not in class_index:
                    raise ValueError(f"annotations[{i}]: unknown label {ann['label']!r}")
                start, end = _segment(ann["segment"])
                start, end = max(start, 0.0), min(end, duration)
                if not end > start:
                    raise ValueError(f"annotations[{i}]: empty segment {ann['segment']} in {duration} s")
                segs.append((start, end))
                labels.append(class_index[ann["label"]])
        except (TypeError, ValueError) as err:
            skip("bad_record", video, f"{json_path}: database['{video}']: {err}")
            continue
        if not segs:
            skip("no_segments", video, "no annotations")
            continue
        path = ""
        if feature_dir is not None:
            path = os.path.join(feature_dir, f"{video}.csv")
            if not os.path.isfile(path):
                skip("missing_features", video, f"{path}: no such file")
                continue
            width = feature_header_width(path)
            if feature_dim is not None and width != feature_dim:
                skip("bad_features", video, f"{path}: header has {width} columns, expected {feature_dim}")
                continue
        records.append(VideoRecord(video, duration, np.asarray(segs, np.float32),
                                   np.asarray(labels, np.int32), path))
    total = sum(len(v) for v in skipped_ids.values())
    if total:
        logging.warning("%s: skipped %d of %d '%s' videos: %s", json_path, total, len(chosen), subset,
                        ", ".join(f"{r}={len(v)}" for r, v in skipped_ids.items() if v))
    return ActivityNetVideos(records, list(classes), skipped_ids)


def resample_features(features, temporal_length: int):
    """(n, D) -> (temporal_length, D) by linear interpolation at the centers of equal-length bins."""
    import tensorflow as tf

    n = tf.shape(features)[0]
    nf = tf.cast(n, tf.float32)
    pos = (tf.range(temporal_length, dtype=tf.float32) + 0.5) * nf / temporal_length - 0.5
    pos = tf.clip_by_value(pos, 0.0, nf - 1.0)
    lo = tf.cast(tf.floor(pos), tf.int32)
    hi = tf.minimum(lo + 1, n - 1)
    w = (pos - tf.cast(lo, tf.float32))[:, None]
    return tf.gather(features, lo) * (1.0 - w) + tf.gather(features, hi) * w


def parse_feature_csv(contents, feature_dim: int):
    """A feature CSV's text -> (T, feature_dim) float32 (TF ops; the header row is dropped)."""
    import tensorflow as tf

    lines = tf.strings.split(tf.strings.strip(contents), "\n")[1:]
    values = tf.strings.to_number(tf.strings.split(lines, ",").flat_values, tf.float32)
    return tf.reshape(values, [-1, feature_dim])


def activitynet_dataset(
    videos: ActivityNetVideos,
    feature_dim: int,
    temporal_length: int = 512,
    max_segments: int = 25,
    shuffle: bool = False,
    seed: int | None = None,
):
    """`tf.data.Dataset` of {features (T, D), segments (S, 2) in steps of T, labels (S,), num_segments,
    duration, video_id}, one element per record (unbatched). `max_segments` = the repo's gt_hold_num."""
    import tensorflow as tf

    if not videos.records:
        raise ActivityNetFormatError("no usable videos in the index (see the skipped counts)")
    paths, durations, segs, labels, counts, ids = [], [], [], [], [], []
    for r in videos.records:
        n = min(len(r.segments), max_segments)
        pad_s = np.full((max_segments, 2), -1.0, np.float32)
        pad_l = np.full((max_segments,), -1, np.int32)
        pad_s[:n] = r.segments[:n] / r.duration * temporal_length
        pad_l[:n] = r.labels[:n]
        paths.append(r.feature_path)
        durations.append(r.duration)
        segs.append(pad_s)
        labels.append(pad_l)
        counts.append(n)
        ids.append(r.video_id)
    ds = tf.data.Dataset.from_tensor_slices({
        "path": paths, "duration": np.asarray(durations, np.float32), "segments": np.stack(segs),
        "labels": np.stack(labels), "num_segments": np.asarray(counts, np.int32), "video_id": ids,
    })
    if shuffle:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)

    def load(item):
        raw = parse_feature_csv(tf.io.read_file(item.pop("path")), feature_dim)
        item["features"] = resample_features(raw, temporal_length)
        return item

    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)

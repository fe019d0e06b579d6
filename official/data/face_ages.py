"""Age-labelled face datasets in their released on-disk formats, as tf.data batches of
{"image": (B, S, S, 3) float32 in [-1, 1], "age": (B,) float32 years, "identity": (B,) int32 (-1 = unknown)}.

Formats (`source`):
- "utkface": a folder of UTKFace files named `<age>_<gender>_<race>_<yyyymmddHHMMSSfff>.jpg.chip.jpg`
  (Aligned&Cropped) or `....jpg` (in the wild); the age comes from the name. A few released names lack the
  race field (e.g. `39_1_20170116174525125.jpg.chip.jpg`): they are kept (only the age is used). UTKFace has
  no identities (identity -1).
- "cacd": CACD2000 files `<age>_<First>_<Last>_<nnnn>.jpg` in a folder, or listed one per line in
  `list_file` (relative to the folder); the identity is the celebrity name (ids in sorted-name order).
- "morph": MORPH Album 2's CSV (`list_file`, with a header) whose columns name the image file (`photo`,
  relative to the folder), the subject (`id_num`) and the age (`age`); other columns are ignored.
Names that do not parse, and CSV rows with a bad age, are counted and skipped with one summary line; files
that are not decodable images are skipped by official/data/image_decode.py. A missing folder, list or CSV
column is a one-line DatasetError naming the file and the field.
Splits: `split` "train" / "test" by a stable hash (CRC32) of the file name (UTKFace, MORPH's random 80/20)
or of the identity (CACD, disjoint people), with `test_fraction`; "all" keeps everything.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
import zlib

import numpy as np
import tensorflow as tf
from absl import logging

from official.data import element_seeds, image_decode
from official.data.imagefolder import IMAGE_EXTENSIONS, DatasetError, file_examples

SOURCES = ("utkface", "cacd", "morph")
UTKFACE_NAME = re.compile(r"^(?P<age>\d{1,3})_(?P<gender>[01])_(?:(?P<race>[0-4])_)?(?P<date>\d+)\.jpg(?:\.chip\.jpg)?$")
CACD_NAME = re.compile(r"^(?P<age>\d{1,3})_(?P<name>.+)_(?P<index>\d{4})\.jpg$")
MORPH_COLUMNS = {"file": "photo", "identity": "id_num", "age": "age"}


@dataclasses.dataclass
class FaceRecords:
    """Parallel lists of one split: image paths, ages in years, identity ids (-1 = unknown)."""

    paths: list[str]
    ages: list[float]
    identities: list[int]
    skipped: int = 0  # names / rows that did not parse

    def __len__(self) -> int:
        return len(self.paths)


def _folder_names(folder: str) -> list[str]:
    if not os.path.isdir(folder):
        raise DatasetError(f"{folder}: image folder not found (data.path)")
    return sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTENSIONS))


def utkface_records(folder: str) -> FaceRecords:
    out, skipped = FaceRecords([], [], []), 0
    for name in _folder_names(folder):
        match = UTKFACE_NAME.match(name)
        if match is None:
            skipped += 1
            continue
        out.paths.append(os.path.join(folder, name))
        out.ages.append(float(match["age"]))
        out.identities.append(-1)
    out.skipped = skipped
    return out


def _list_lines(list_file: str) -> list[str]:
    if not os.path.isfile(list_file):
        raise DatasetError(f"{list_file}: list file not found (data.list_file)")
    with open(list_file, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def cacd_records(folder: str, list_file: str = "") -> FaceRecords:
    names = _list_lines(list_file) if list_file else _folder_names(folder)
    parsed, skipped = [], 0
    for name in names:
        match = CACD_NAME.match(os.path.basename(name))
        if match is None:
            skipped += 1
            continue
        parsed.append((name, float(match["age"]), match["name"]))
    ids = {person: i for i, person in enumerate(sorted({p for _, _, p in parsed}))}
    return FaceRecords([os.path.join(folder, n) for n, _, _ in parsed], [a for _, a, _ in parsed],
                       [ids[p] for _, _, p in parsed], skipped)


def morph_records(folder: str, csv_file: str, columns: dict[str, str] | None = None) -> FaceRecords:
    columns = {**MORPH_COLUMNS, **(columns or {})}
    if not os.path.isfile(csv_file):
        raise DatasetError(f"{csv_file}: MORPH CSV not found (data.list_file)")
    with open(csv_file, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
        header = rows[0].keys() if rows else []
    for field, column in columns.items():
        if column not in header:
            raise DatasetError(f"{csv_file}: no column {column!r} for the {field} (header: {', '.join(header)})")
    parsed, skipped = [], 0
    for row in rows:
        try:
            age = float(row[columns["age"]])
        except (TypeError, ValueError):
            skipped += 1
            continue
        if not 0 <= age < 150 or not row[columns["file"]]:
            skipped += 1
            continue
        parsed.append((row[columns["file"]], age, row[columns["identity"]]))
    ids = {s: i for i, s in enumerate(sorted({s for _, _, s in parsed}))}
    return FaceRecords([os.path.join(folder, n) for n, _, _ in parsed], [a for _, a, _ in parsed],
                       [ids[s] for _, _, s in parsed], skipped)


def _in_test(key: str, test_fraction: float) -> bool:
    return zlib.crc32(key.encode("utf-8")) % 10_000 < test_fraction * 10_000


def split_records(records: FaceRecords, split: str, test_fraction: float, by_identity: bool) -> FaceRecords:
    """The `split` share of the records: hashed file names, or hashed identities (disjoint people)."""
    if split == "all":
        return records
    if split not in ("train", "test"):
        raise DatasetError(f"split: expected train, test or all, got {split!r}")
    keep = [i for i in range(len(records))
            if _in_test(str(records.identities[i]) if by_identity else os.path.basename(records.paths[i]),
                        test_fraction) == (split == "test")]
    return FaceRecords([records.paths[i] for i in keep], [records.ages[i] for i in keep],
                       [records.identities[i] for i in keep], records.skipped)


def read_records(source: str, path: str, list_file: str = "", split: str = "all",
                 test_fraction: float = 0.2) -> FaceRecords:
    """Parsed and split records; logs how many names / rows were skipped; errors when none are left."""
    if source == "utkface":
        records = utkface_records(path)
    elif source == "cacd":
        records = cacd_records(path, list_file)
    elif source == "morph":
        records = morph_records(path, list_file)
    else:
        raise DatasetError(f"source: expected one of {', '.join(SOURCES)}, got {source!r}")
    if records.skipped:
        logging.warning("%s: skipped %d file name(s) / row(s) that do not parse as %s", list_file or path,
                        records.skipped, source)
    records = split_records(records, split, test_fraction, by_identity=source == "cacd")
    if not len(records):
        raise DatasetError(f"{list_file or path}: no {source} images in split {split!r}")
    return records


def face_dataset(records: FaceRecords, training: bool, batch_size: int, image_size: int, flip: bool = True,
                 seed: int | None = None, counter: image_decode.SkipCounter | None = None,
                 input_context: tf.distribute.InputContext | None = None) -> tf.data.Dataset:
    """Batches of {"image", "age", "identity"}; endless and shuffled when training, one ordered pass otherwise.
    `batch_size` is global: divided over input pipelines when `input_context` is given."""
    counter = counter or image_decode.SkipCounter()
    ages = tf.constant(np.asarray(records.ages, np.float32))
    identities = tf.constant(np.asarray(records.identities, np.int32))
    shards, index = ((input_context.num_input_pipelines, input_context.input_pipeline_id)
                     if input_context is not None else (1, 0))
    ds = file_examples(records.paths, list(range(len(records))), shuffle=training, seed=seed, num_shards=shards,
                       shard_index=index)
    ds = image_decode.filter_decodable(ds.repeat() if training else ds, counter)
    if training:  # each element's flip comes from its own seed: a seeded run is reproducible
        ds = element_seeds.with_element_seeds(ds, seed, index).map(lambda e, s: {**e, "seed": s})

    def example(e):
        image = tf.image.resize(tf.cast(image_decode.decode_rgb(e["encoded"]), tf.float32), (image_size, image_size),
                                antialias=True)
        if training and flip:
            image = tf.image.stateless_random_flip_left_right(image, e["seed"])
        return {"image": tf.clip_by_value(image, 0.0, 255.0) / 127.5 - 1.0,
                "age": tf.gather(ages, e["label"]), "identity": tf.gather(identities, e["label"])}

    ds = ds.map(example, num_parallel_calls=tf.data.AUTOTUNE)
    per_replica = input_context.get_per_replica_batch_size(batch_size) if input_context is not None else batch_size
    return ds.batch(per_replica, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

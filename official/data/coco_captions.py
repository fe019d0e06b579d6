"""COCO Captions 2014 for weakly supervised grounding (BigRedT/info-ground exp/ground/dataset.py's inputs).

Files:
    captions_<split>2014.json   {"images": [{"id", "file_name"}], "annotations": [{"id", "image_id", "caption"}]};
                                an image's detections are keyed by its file name without extension
                                (COCO_train2014_000000000009)
    noun_adj_tokens_<split>.json  [{"image_id", "cap_id", "token_ids": [...]}]: positions of the noun and
                                adjective pieces in the BERT tokenisation [CLS] pieces [SEP] (a POS tagger's output)
    bert_noun_negatives_<split>.json   {image_id: {cap_id: {"negs": {noun_token_id: [substitute words]}}}}
    bert_noun_negatives_<split>.h5py   "<image_id>_<cap_id>_<noun_token_id>" -> (1 + N, D) contextual features of
                                the true noun (row 0) and its N substitutes
Captions without an image entry, without text, or without noun/adjective tokens are counted and skipped;
a caption without negatives keeps neg_valid = 0 (the authors' noun_id = -1). A missing file or top-level
field is a one-line CocoCaptionsError naming the file and the field.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections import Counter

import numpy as np

from official.core.errors import PathNotFoundError, UserError

log = logging.getLogger(__name__)


class CocoCaptionsError(UserError, ValueError):
    """A captions / tokens / negatives file that does not follow the layout; names the file and the field."""


@dataclasses.dataclass
class Caption:
    image_id: int
    cap_id: int
    caption: str
    image_name: str  # key of the image in boxes.hdf5 / features.hdf5


def _load_json(path: str, what: str):
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: {what} file does not exist")
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise CocoCaptionsError(f"{path}: not valid JSON ({err})") from err


def read_captions(path: str) -> tuple[list[Caption], Counter]:
    """The captions of a COCO captions JSON and a Counter of skipped annotations per reason."""
    data = _load_json(path, "COCO captions")
    for field in ("images", "annotations"):
        if not isinstance(data, dict) or not isinstance(data.get(field), list):
            raise CocoCaptionsError(f"{path}: no '{field}' list (COCO captions format)")
    names = {}
    for image in data["images"]:
        if isinstance(image, dict) and "id" in image and isinstance(image.get("file_name"), str):
            names[image["id"]] = os.path.splitext(os.path.basename(image["file_name"]))[0]
    out, skipped = [], Counter()
    for ann in data["annotations"]:
        if not isinstance(ann, dict) or "image_id" not in ann or "id" not in ann:
            skipped["bad_annotation"] += 1
        elif ann["image_id"] not in names:
            skipped["unknown_image"] += 1
        elif not isinstance(ann.get("caption"), str) or not ann["caption"].strip():
            skipped["empty_caption"] += 1
        else:
            out.append(Caption(int(ann["image_id"]), int(ann["id"]), ann["caption"].strip(), names[ann["image_id"]]))
    return out, skipped


def read_noun_adj_tokens(path: str) -> dict[int, list[int]]:
    """cap_id -> token positions of the caption's nouns and adjectives."""
    data = _load_json(path, "noun/adjective tokens")
    if not isinstance(data, list):
        raise CocoCaptionsError(f"{path}: expected a list of {{cap_id, token_ids}} entries")
    out = {}
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or "cap_id" not in entry or not isinstance(entry.get("token_ids"), list):
            raise CocoCaptionsError(f"{path}: entry {i} has no 'cap_id' / 'token_ids'")
        out[int(entry["cap_id"])] = [int(t) for t in entry["token_ids"]]
    return out


class NegativeNouns:
    """Cached language-model negatives: (1 + N, D) features and the noun's token position per caption."""

    def __init__(self, samples_json: str, features_h5: str, num_candidates: int, feature_dim: int):
        self.samples = _load_json(samples_json, "noun negatives")
        if not isinstance(self.samples, dict):
            raise CocoCaptionsError(f"{samples_json}: expected {{image_id: {{cap_id: {{'negs': ...}}}}}}")
        if not os.path.isfile(features_h5):
            raise PathNotFoundError(f"{features_h5}: noun negatives features file does not exist")
        self.path, self.num_candidates, self.feature_dim = features_h5, num_candidates, feature_dim

    def noun_id(self, image_id: int, cap_id: int) -> int:
        """The substituted noun's token position (the first listed; the authors draw one at random), or -1."""
        negs = self.samples.get(str(image_id), {}).get(str(cap_id), {}).get("negs", {})
        return min((int(k) for k in negs), default=-1)

    def load(self, image_id: int, cap_id: int, noun_id: int) -> np.ndarray | None:
        if noun_id < 0:
            return None
        import h5py

        key = f"{image_id}_{cap_id}_{noun_id}"
        with h5py.File(self.path, "r") as f:  # per read (no handle shared across tf.data's threads)
            if key not in f:
                return None
            feats = np.asarray(f[key], np.float32)
        if feats.shape != (self.num_candidates, self.feature_dim):
            raise CocoCaptionsError(f"{self.path}: '{key}' has shape {feats.shape}, expected "
                                    f"({self.num_candidates}, {self.feature_dim}) (1 + negatives, word_dim)")
        return feats


def log_skipped(what: str, skipped: Counter, total: int) -> None:
    if skipped:
        log.warning("%s: %d of %d skipped: %s", what, sum(skipped.values()), total, dict(skipped))

"""20 Newsgroups "bydate" on disk -> text documents in scikit-learn's fetch_20newsgroups order, and TF-IDF views.

Layout (the 20news-bydate.tar.gz archive that fetch_20newsgroups downloads, unpacked):
    ROOT/20news-bydate-train/<category>/<doc_id>     raw news messages (read as latin-1)
    ROOT/20news-bydate-test/<category>/<doc_id>
Order, as sklearn builds it (datasets/_twenty_newsgroups.py): load_files lists every category folder sorted
and its files sorted, shuffles them with RandomState(0); the requested categories are kept, labelled by their
index in sorted order, and shuffled again with RandomState(42). So on the full archive the "first 500
training documents" of TCGM's dataprepare.py are the same documents here.
`remove` strips headers (up to the first blank line), footers (from the last line made of dashes) and quoted
lines, as sklearn's strip_newsgroup_* functions do, in that order.
TCGM's views (dataprepare.py): TfidfVectorizer() fitted on the training text, columns split into `num_views`
blocks of `feature_split` (3 x 4,000). Unreadable entries (sub-folders, I/O errors) are counted, logged and
skipped; a missing folder or category is a one-line error naming it.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter

import numpy as np

from official.core.errors import BadValueError, PathNotFoundError, UserError
from official.data import tfidf

log = logging.getLogger(__name__)

SUBSETS = {"train": "20news-bydate-train", "test": "20news-bydate-test"}
TCGM_CATEGORIES = ("alt.atheism", "talk.religion.misc", "comp.graphics", "sci.space")  # dataprepare.py
REMOVE = ("headers", "footers", "quotes")
_QUOTE_RE = re.compile(r"(writes in|writes:|wrote:|says:|said:|^In article|^Quoted from|^\||^>)")


class NewsgroupsFormatError(UserError, ValueError):
    """A bydate tree that does not follow the layout; the message names the folder and what is missing."""


def strip_header(text: str) -> str:
    return text.partition("\n\n")[2]


def strip_quoting(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not _QUOTE_RE.search(line))


def strip_footer(text: str) -> str:
    lines = text.strip().split("\n")
    line_num = len(lines) - 1
    while line_num >= 0 and lines[line_num].strip().strip("-") != "":
        line_num -= 1
    return "\n".join(lines[:line_num]) if line_num > 0 else text


def clean(text: str, remove: tuple[str, ...] = REMOVE) -> str:
    unknown = set(remove) - set(REMOVE)
    if unknown:
        raise BadValueError(f"remove: unknown part(s) {sorted(unknown)}; expected any of {', '.join(REMOVE)}")
    if "headers" in remove:
        text = strip_header(text)
    if "footers" in remove:
        text = strip_footer(text)
    if "quotes" in remove:
        text = strip_quoting(text)
    return text


def read_bydate(
    root: str, subset: str, categories: tuple[str, ...] = TCGM_CATEGORIES, remove: tuple[str, ...] = REMOVE
) -> tuple[list[str], np.ndarray, list[str], Counter]:
    """(documents, labels (N,) int64, file paths, skipped counts) of one subset, in fetch_20newsgroups order."""
    if subset not in SUBSETS:
        raise BadValueError(f"subset: expected train or test, got {subset!r}")
    folder = os.path.join(root, SUBSETS[subset])
    if not os.path.isdir(folder):
        raise PathNotFoundError(f"{folder}: 20 Newsgroups bydate folder does not exist")
    all_categories = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    missing = [c for c in categories if c not in all_categories]
    if missing:
        raise NewsgroupsFormatError(f"{folder}: no category folder '{missing[0]}' (found {len(all_categories)})")
    paths, targets = [], []
    for label, category in enumerate(all_categories):
        cat_dir = os.path.join(folder, category)
        for name in sorted(os.listdir(cat_dir)):
            paths.append(os.path.join(cat_dir, name))
            targets.append(label)
    paths_arr, targets_arr = np.array(paths, dtype=object), np.array(targets, np.int64)
    order = np.arange(len(paths_arr))
    np.random.RandomState(0).shuffle(order)  # load_files(shuffle=True, random_state=0)
    paths_arr, targets_arr = paths_arr[order], targets_arr[order]
    wanted = sorted(all_categories.index(c) for c in categories)
    keep = np.isin(targets_arr, wanted)
    paths_arr, targets_arr = paths_arr[keep], np.searchsorted(wanted, targets_arr[keep])
    order = np.arange(len(paths_arr))
    np.random.RandomState(42).shuffle(order)  # fetch_20newsgroups(shuffle=True, random_state=42)
    docs, labels, kept, skipped = [], [], [], Counter()
    for i in order:
        try:
            with open(paths_arr[i], "rb") as f:
                raw = f.read()
        except OSError as err:  # a sub-folder or an unreadable file
            skipped["unreadable"] += 1
            log.warning("skipped %s: %s", paths_arr[i], err)
            continue
        docs.append(clean(raw.decode("latin-1"), remove))
        labels.append(int(targets_arr[i]))
        kept.append(str(paths_arr[i]))
    if skipped:
        log.warning("%s: skipped %d unreadable entries", folder, sum(skipped.values()))
    return docs, np.array(labels, np.int64), kept, skipped


def tfidf_views(
    train_docs: list[str], docs: list[str], num_views: int = 3, feature_split: int = 4000
) -> list[np.ndarray]:
    """TF-IDF fitted on `train_docs`, applied to `docs`, cut into `num_views` column blocks (N, split) float32."""
    model = tfidf.fit(train_docs)
    need = num_views * feature_split
    if len(model.vocabulary) < need:
        raise BadValueError(
            f"feature_split: {num_views} views x {feature_split} columns need {need} terms; the training text has "
            f"{len(model.vocabulary)}")
    x = model.transform(docs)[:, :need].toarray().astype(np.float32)
    return [x[:, m * feature_split:(m + 1) * feature_split] for m in range(num_views)]

"""Word TF-IDF as scikit-learn's TfidfVectorizer() computes it with its defaults, in NumPy / SciPy.

Defaults reproduced (sklearn 1.x feature_extraction/text.py): lowercase, no accent stripping, tokens =
re.findall(r"(?u)\\b\\w\\w+\\b"), unigrams, vocabulary = every token of the fitted documents in sorted order,
idf = ln((1 + n) / (1 + df)) + 1 (smooth_idf), tf = raw counts, rows L2-normalised (zero rows stay zero),
float64. tests/official/data/test_newsgroups_reader.py compares it with TfidfVectorizer on a fixture to 1e-7.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import numpy as np
from scipy import sparse

TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens of two or more word characters."""
    return TOKEN_PATTERN.findall(text.lower())


@dataclasses.dataclass
class TfidfModel:
    vocabulary: dict[str, int]  # token -> column (sorted token order)
    idf: np.ndarray  # (V,) float64

    def transform(self, docs: list[str]) -> sparse.csr_matrix:
        """(N, V) L2-normalised TF-IDF rows; tokens outside the vocabulary are dropped."""
        rows, cols, vals = [], [], []
        for i, doc in enumerate(docs):
            counts = Counter(t for t in tokenize(doc) if t in self.vocabulary)
            for token, n in counts.items():
                rows.append(i)
                cols.append(self.vocabulary[token])
                vals.append(float(n))
        x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(self.vocabulary)), dtype=np.float64)
        x = x.multiply(self.idf[None, :]).tocsr()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(x.multiply(1.0 / norms[:, None]))


def fit(docs: list[str]) -> TfidfModel:
    """Vocabulary and smoothed idf of `docs` (the training split)."""
    df: Counter = Counter()
    for doc in docs:
        df.update(set(tokenize(doc)))
    tokens = sorted(df)
    n = len(docs)
    idf = np.array([np.log((1 + n) / (1 + df[t])) + 1.0 for t in tokens], np.float64)
    return TfidfModel({t: i for i, t in enumerate(tokens)}, idf)

"""20 Newsgroups bydate reader and TF-IDF (official/data/newsgroups.py, tfidf.py) against scikit-learn itself:
fetch_20newsgroups on the same tree (through a cache file that sklearn's own load_files builds, as its
downloader does) gives the same documents, order and labels, and TfidfVectorizer() the same matrix to 1e-7
(spec card tcgm.md check 7). Plus the layout errors and the skipped-entry count."""

from __future__ import annotations

import codecs
import os
import pickle

import numpy as np
import pytest
from sklearn.datasets import fetch_20newsgroups, load_files
from sklearn.datasets._base import _pkl_filepath
from sklearn.feature_extraction.text import TfidfVectorizer

from official.core.errors import PathNotFoundError
from official.data import newsgroups, tfidf
from tools.make_multiview_features import write_newsgroups_tree


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("news") / "20news")
    write_newsgroups_tree(root, train=12, test=8, seed=0)
    return root


def sklearn_subsets(root: str, data_home: str) -> dict:
    """fetch_20newsgroups' own pipeline on `root`: the cache its downloader writes, then the public call."""
    cache = {"train": load_files(os.path.join(root, "20news-bydate-train"), encoding="latin1"),
             "test": load_files(os.path.join(root, "20news-bydate-test"), encoding="latin1")}
    with open(_pkl_filepath(data_home, "20news-bydate.pkz"), "wb") as f:
        f.write(codecs.encode(pickle.dumps(cache), "zlib_codec"))
    return {s: fetch_20newsgroups(data_home=data_home, subset=s, categories=list(newsgroups.TCGM_CATEGORIES),
                                  remove=newsgroups.REMOVE, download_if_missing=False) for s in ("train", "test")}


def test_documents_order_and_tfidf_equal_sklearn(tree, tmp_path):
    ref = sklearn_subsets(tree, str(tmp_path))
    ours = {s: newsgroups.read_bydate(tree, s) for s in ("train", "test")}
    for s in ("train", "test"):
        docs, labels, paths, skipped = ours[s]
        assert len(docs) == 4 * (12 if s == "train" else 8) and not skipped
        assert docs == ref[s].data
        np.testing.assert_array_equal(labels, ref[s].target)
        assert paths == list(ref[s].filenames)
    assert sorted(newsgroups.TCGM_CATEGORIES) == ref["train"].target_names
    assert any("writes:" in open(p, encoding="latin-1").read() for p in ours["train"][2])  # quotes were there
    assert not any("writes:" in d or d.startswith("From:") for d in ours["train"][0])
    vec = TfidfVectorizer()
    want_train = vec.fit_transform(ref["train"].data).toarray()
    want_test = vec.transform(ref["test"].data).toarray()
    model = tfidf.fit(ours["train"][0])
    assert list(model.vocabulary) == list(vec.get_feature_names_out())
    np.testing.assert_allclose(model.transform(ours["train"][0]).toarray(), want_train, atol=1e-7, rtol=0)
    np.testing.assert_allclose(model.transform(ours["test"][0]).toarray(), want_test, atol=1e-7, rtol=0)
    assert want_train.shape[1] > 40
    # TCGM's views: dataprepare.py's column blocks of the float32 matrix
    views = newsgroups.tfidf_views(ours["train"][0], ours["test"][0], num_views=3, feature_split=12)
    for m, v in enumerate(views):
        np.testing.assert_allclose(v, want_test[:, m * 12:(m + 1) * 12].astype(np.float32), atol=1e-7)


def test_tokenizer_matches_sklearn_analyzer():
    text = "Hello, WORLD! a I'm co-op x2 naïve 3.14 __init__ émigré_2"
    assert tfidf.tokenize(text) == TfidfVectorizer().build_analyzer()(text)


def test_stripping_matches_sklearn_helpers():
    from sklearn.datasets import _twenty_newsgroups as ref

    texts = ["From: a\nSubject: b\n\nbody line\n> quoted\nIn article <1@x>, c writes:\nmore\n\n--\nsig\n",
             "no header blank line at all\n-----\nfooter", "", "one\n\ntwo\n|pipe quote\nthree\n \n"]
    for t in texts:
        assert newsgroups.strip_header(t) == ref.strip_newsgroup_header(t)
        assert newsgroups.strip_footer(t) == ref.strip_newsgroup_footer(t)
        assert newsgroups.strip_quoting(t) == ref.strip_newsgroup_quoting(t)


def test_layout_errors_and_skipped_entries(tree, tmp_path, caplog):
    with pytest.raises(PathNotFoundError, match="20news-bydate-train: 20 Newsgroups bydate folder does not exist"):
        newsgroups.read_bydate(str(tmp_path), "train")
    with pytest.raises(newsgroups.NewsgroupsFormatError, match="no category folder 'sci.med'"):
        newsgroups.read_bydate(tree, "train", ("sci.space", "sci.med"))
    with pytest.raises(newsgroups.BadValueError, match="feature_split"):
        newsgroups.tfidf_views(["one two three"], ["one"], num_views=3, feature_split=10)
    os.makedirs(os.path.join(tree, "20news-bydate-test", "sci.space", "zz_subfolder"))
    try:
        docs, _, _, skipped = newsgroups.read_bydate(tree, "test")
    finally:
        os.rmdir(os.path.join(tree, "20news-bydate-test", "sci.space", "zz_subfolder"))
    assert skipped == {"unreadable": 1} and len(docs) == 32
    assert "skipped 1 unreadable" in caplog.text

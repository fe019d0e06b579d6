"""Writes multi-view data sets in TCGM's on-disk formats (official/data/multiview_csd.py, official/data/newsgroups.py).

    python -m tools.make_multiview_features --source=digits --out=data/digits_views
    python -m tools.make_multiview_features --source=gaussian --out=data/gaussian_views
    python -m tools.make_multiview_features --source=newsgroups --out=data/20news_synth

- digits: scikit-learn's 1,797 real 8x8 scans, split into two views, the left and the right 8x4 halves
  (values / 16), as left.csd and right.csd + labels.csd; folds/train.txt (1,433 ids, every 5th scan of a
  class goes to test as tools.make_digits does) in a seeded random order, so the first 10 % (the labeled
  part of the small run) is a random subset; folds/test.txt (364 ids).
- gaussian: y ~ Cat(4), x_m | y ~ N(mu_{m,y}, I) independently for m = 1..3 (spec card tcgm.md "Fixture"),
  as view_0..view_2.csd; folds train / test.
- newsgroups: a 20news-bydate tree of short generated messages (header, body words from a per-category
  list, a quoted line, a signature), 4 TCGM categories + 1 other, `--train` / `--test` per category.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
from absl import flags

from tools import _cli

FLAGS = flags.FLAGS
SOURCES = ("digits", "gaussian", "newsgroups")


def define_flags() -> None:
    flags.DEFINE_enum("source", "digits", SOURCES, "Which data set to write.")
    flags.DEFINE_string("out", "data/digits_views", "Output folder.")
    flags.DEFINE_integer("seed", 0, "Seed of the train order (digits) or of the generated values.")
    flags.DEFINE_integer("train", 0, "gaussian: training instances (0 = 2,000); newsgroups: per category (0 = 12).")
    flags.DEFINE_integer("test", 0, "gaussian: test instances (0 = 1,000); newsgroups: per category (0 = 8).")


def _publish(tmp: str, out: str) -> None:
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    os.replace(tmp, out)


def write_views(out: str, views: dict[str, np.ndarray], labels: np.ndarray, folds: dict[str, np.ndarray]) -> None:
    """Writes <view>.csd per view, labels.csd and folds/<split>.txt (ids "i%05d") atomically."""
    from official.data.multiview_csd import write_csd

    tmp = f"{out.rstrip('/')}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "folds"))
    ids = [f"i{i:05d}" for i in range(len(labels))]
    used = sorted({int(i) for indices in folds.values() for i in indices})  # only instances of a fold
    for name, x in views.items():
        write_csd(os.path.join(tmp, f"{name}.csd"), name, {ids[i]: x[i][None] for i in used})
    write_csd(os.path.join(tmp, "labels.csd"), "labels", {ids[i]: np.array([[labels[i]]]) for i in used})
    for split, indices in folds.items():
        with open(os.path.join(tmp, "folds", f"{split}.txt"), "w") as f:
            f.write("".join(f"{ids[i]}\n" for i in indices))
    _publish(tmp, out)


def write_digits_views(out: str, seed: int = 0, limit: int = 0) -> dict[str, int]:
    """The two-halves digits set; `limit` > 0 keeps the first `limit` ids of each fold (tests)."""
    from sklearn.datasets import load_digits

    from tools.make_digits import split_indices

    digits = load_digits()
    images, labels = digits.images.astype(np.float32) / 16.0, digits.target.astype(np.int64)
    train, test = split_indices(labels, 5)
    train, test = np.random.default_rng(seed).permutation(train), np.array(test)
    if limit > 0:
        train, test = train[:limit], test[:limit]
    views = {"left": images[:, :, :4].reshape(len(images), -1), "right": images[:, :, 4:].reshape(len(images), -1)}
    write_views(out, views, labels, {"train": train, "test": test})
    return {"train": len(train), "test": len(test)}


def gaussian_views(n: int, seed: int, num_views: int = 3, num_classes: int = 4, dim: int = 8, separation: float = 1.0,
                   means_seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """y ~ Cat(C) uniform, x_m | y ~ N(mu_{m,y}, I) independently; the means depend on `means_seed` only."""
    means = np.random.default_rng(means_seed).normal(size=(num_views, num_classes, dim)) * separation
    rng = np.random.default_rng(seed)
    y = rng.integers(0, num_classes, n)
    return [(means[m][y] + rng.normal(size=(n, dim))).astype(np.float32) for m in range(num_views)], y


def write_gaussian_views(out: str, train: int = 2000, test: int = 1000, seed: int = 0) -> dict[str, int]:
    xs, y = gaussian_views(train + test, seed)
    write_views(out, {f"view_{m}": x for m, x in enumerate(xs)}, y,
                {"train": np.arange(train), "test": np.arange(train, train + test)})
    return {"train": train, "test": test}


NEWS_WORDS = {
    "alt.atheism": "god atheism belief religion evidence morality argument faith reason bible".split(),
    "comp.graphics": "image graphics pixel render polygon format jpeg color texture display".split(),
    "sci.space": "orbit nasa launch shuttle moon rocket satellite mission planet space".split(),
    "talk.religion.misc": "christian church jesus koresh prayer sect spirit scripture moral cult".split(),
    "rec.autos": "car engine dealer wheel brake tire speed drive oil transmission".split(),
}
COMMON = "the and that this with from have what about would there think".split()


def message(rng: np.random.Generator, category: str, i: int) -> str:
    """A short news message: header, body (category and common words), a quote, a signature."""
    words = NEWS_WORDS[category]
    body = [" ".join(rng.choice(words + COMMON, size=int(rng.integers(6, 14)))) for _ in range(int(rng.integers(1, 4)))]
    text = f"From: user{i}@example.edu\nSubject: {rng.choice(words)} question\nLines: {len(body)}\n\n"
    if i % 3 == 0:
        text += f"In article <{i}@news.edu>, someone writes:\n> {' '.join(rng.choice(words, 4))}\n"
    text += "\n".join(body)
    if i % 2 == 0:
        text += f"\n\n--\nUser {i} | {rng.choice(words)} lab\n"
    return text


def write_newsgroups_tree(out: str, train: int = 12, test: int = 8, seed: int = 0) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    tmp = f"{out.rstrip('/')}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    start = 50_000
    for subset, count in (("20news-bydate-train", train), ("20news-bydate-test", test)):
        for category in NEWS_WORDS:
            os.makedirs(os.path.join(tmp, subset, category))
            for k in range(count):
                doc_id = start + int(rng.integers(0, 40_000))
                path = os.path.join(tmp, subset, category, str(doc_id))
                while os.path.exists(path):
                    doc_id += 1
                    path = os.path.join(tmp, subset, category, str(doc_id))
                with open(path, "w", encoding="latin-1") as f:
                    f.write(message(rng, category, k))
    _publish(tmp, out)
    return {"train": train * len(NEWS_WORDS), "test": test * len(NEWS_WORDS)}


def main(argv: list[str]) -> int:
    del argv
    if FLAGS.source == "digits":
        counts = write_digits_views(FLAGS.out, FLAGS.seed)
    elif FLAGS.source == "gaussian":
        counts = write_gaussian_views(FLAGS.out, FLAGS.train or 2000, FLAGS.test or 1000, FLAGS.seed)
    else:
        counts = write_newsgroups_tree(FLAGS.out, FLAGS.train or 12, FLAGS.test or 8, FLAGS.seed)
    print(f"wrote {FLAGS.source}: {counts['train']} train / {counts['test']} test to {FLAGS.out}")
    return 0


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)

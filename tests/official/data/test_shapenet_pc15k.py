"""ShapeNet PC15k reader (official/data/shapenet_pc15k.py) on fixtures written in the real layout: the card's
PC15k/02691156/{train,val,test} with 4/2/2 shapes plus a second synset, per-shape normalisation, the
10k/5k pools, bad files counted and skipped, one-line errors, and the tools.make_shapes3d `pc15k` writer."""

from __future__ import annotations

import os

import numpy as np
import pytest

from official.core.errors import PathNotFoundError
from official.data import shapenet_pc15k as pc


def _fixture(root, rng):
    """Airplane-like clouds (an ellipsoid fuselage + a flat box of wings) and a second synset of cubes."""
    for split, n in (("train", 4), ("val", 2), ("test", 2)):
        for synset in ("02691156", "03001627"):
            os.makedirs(os.path.join(root, synset, split))
        for k in range(n):
            u = rng.normal(size=(9000, 3))
            fuselage = u / np.linalg.norm(u, axis=1, keepdims=True) * [2.0, 0.3, 0.3]
            wings = rng.uniform([-0.4, -0.02, -1.5], [0.4, 0.02, 1.5], (6000, 3))
            cloud = np.concatenate([fuselage, wings])[rng.permutation(15000)] * rng.uniform(0.5, 2) + rng.normal(size=3)
            np.save(os.path.join(root, "02691156", split, f"plane{k}.npy"), cloud.astype(np.float32))
            cube = rng.uniform(-1, 1, (15000, 3)) * rng.uniform(0.2, 3)
            np.save(os.path.join(root, "03001627", split, f"cube{k}.npy"), cube.astype(np.float32))


def test_reads_normalises_and_skips_bad_files(tmp_path, caplog):
    root = str(tmp_path / "ShapeNetCore.v2.PC15k")
    _fixture(root, np.random.default_rng(0))
    np.save(os.path.join(root, "02691156", "train", "short.npy"), np.zeros((100, 3), np.float32))
    with open(os.path.join(root, "02691156", "train", "broken.npy"), "wb") as f:
        f.write(b"not a numpy file")
    nan = np.zeros((15000, 3), np.float32)
    nan[5] = np.nan
    np.save(os.path.join(root, "02691156", "train", "nan.npy"), nan)
    split = pc.load_split(root, ("airplane",), "train")
    assert len(split) == 4 and sorted(os.path.basename(p) for p, _ in split.skipped) == ["broken.npy", "nan.npy", "short.npy"]
    assert "skipped 3 bad file(s) of 7" in caplog.text
    # bbox centre 0 and half the largest extent 1 per shape; the stats undo it
    hi, lo = split.points.max(1), split.points.min(1)
    np.testing.assert_allclose((hi + lo) / 2, 0, atol=1e-6)
    np.testing.assert_allclose(np.max(hi - lo, axis=1), 2.0, rtol=1e-6)
    raw = np.load(os.path.join(root, split.names[0][0], split.names[0][1] + ".npy"))
    np.testing.assert_allclose(split.points[0] * split.scale[0] + split.mean[0], raw, rtol=1e-5, atol=1e-5)
    both = pc.load_split(root, ("airplane", "03001627"), "val")
    assert len(both) == 4 and sorted(both.category.tolist()) == [0, 0, 1, 1]
    assert pc.synset_ids(root, ("all",)) == ["02691156", "03001627"]
    # order: the official seeded shuffle of the (sorted) listing, identical on every read
    assert pc.load_split(root, ("airplane",), "train").names == split.names


def test_pools_sampling_and_batches(tmp_path):
    root = str(tmp_path / "pc")
    os.makedirs(os.path.join(root, "02691156", "test"))
    for k in range(3):  # train pool x in [-1, 0), test pool x in (0, 1]: the source of every point shows
        cloud = np.random.default_rng(k).uniform(0.1, 1, (15000, 3)).astype(np.float32)
        cloud[:10000, 0] *= -1
        cloud[0], cloud[1] = [-1, -1, -1], [1, 1, 1]  # fixes the bbox: normalisation keeps the signs
        np.save(os.path.join(root, "02691156", "test", f"m{k}.npy"), cloud)
    split = pc.load_split(root, ("airplane",), "test")
    x, y = next(iter(pc.dataset(split, True, 2, tr_points=64, te_points=32, seed=0)))
    assert x["points"].shape == (2, 64, 3) and y["ref"].shape == (2, 32, 3)
    assert np.all(x["points"].numpy()[..., 0] <= 0) and np.all(y["ref"].numpy()[..., 0] > 0)
    assert len({tuple(v) for v in x["points"].numpy()[0].round(5)}) > 40  # drawn from 10,000, not the first 64
    evaluation = list(pc.dataset(split, False, 2, tr_points=64, te_points=32))
    assert [len(b[0]["points"]) for b in evaluation] == [2, 1]
    np.testing.assert_allclose(evaluation[0][0]["points"].numpy()[0], split.points[0, :64])  # the first points
    np.testing.assert_allclose(evaluation[0][1]["ref"].numpy()[0], split.points[0, 10000:10032])


def test_one_line_errors_and_the_writer(tmp_path):
    with pytest.raises(PathNotFoundError, match="PC15k root folder does not exist"):
        pc.load_split(str(tmp_path / "missing"), ("airplane",), "train")
    os.makedirs(tmp_path / "empty" / "02691156" / "train")
    with pytest.raises(PathNotFoundError, match="no split folder"):
        pc.load_split(str(tmp_path / "empty"), ("airplane",), "val")
    with pytest.raises(PathNotFoundError, match="no readable"):
        pc.load_split(str(tmp_path / "empty"), ("airplane",), "train")
    from tools.make_shapes3d import write_shapes3d

    out = str(tmp_path / "shapes")
    counts = write_shapes3d("pc15k", out, per_class=2, test_per_class=1, classes=("sphere", "box"), seed=0)
    assert counts == {"train": 4, "val": 2, "test": 2}
    spheres = pc.load_split(out, ("airplane",), "train")
    boxes = pc.load_split(out, ("chair",), "train")
    assert len(spheres) == 2 and spheres.names[0][1].startswith("train/sphere_")
    assert boxes.points.shape == (2, 15000, 3) and np.abs(boxes.points).max() == pytest.approx(1.0)

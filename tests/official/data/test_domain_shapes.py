"""The generated translation domains (official/data/domain_shapes.py, written by tools.make_domains): line
drawings are black strokes on white, filled scenes are coloured, night scenes are far darker than day ones,
gray_colour's A is the luma of scenes coloured by shape kind (its test split aligned), each domain draws its
own (unpaired) training scenes, and an unknown kind is a one-line error."""

import os

import numpy as np
import pytest
from PIL import Image

from official.data import domain_shapes


def _images(domain, kind, n=8, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([domain_shapes.scene(rng, 36, domain, kind) for _ in range(n)]).astype(np.float64)


def test_outline_drawings_and_filled_scenes():
    a, b = _images("A", "outline_fill"), _images("B", "outline_fill")
    assert np.all(a[..., 0] == a[..., 1]) and np.all(a[..., 1] == a[..., 2])  # grey strokes only
    assert (a == 255).mean() > 0.8 and (a < 128).any()  # mostly white paper, some black lines
    assert (b.max(-1) - b.min(-1)).mean() > 30  # colour: channels differ
    assert np.abs(a.mean() - b.mean()) > 50


def test_night_is_dark_and_noisy_day_is_not():
    night, day = _images("A", "night_day"), _images("B", "night_day", seed=1)
    assert night.mean() < 0.4 * day.mean()
    assert night[..., 2].mean() > night[..., 0].mean()  # the blue tint
    assert night.dtype == np.float64 and night.min() >= 0 and day.max() <= 255


def test_domains_are_unpaired_and_kinds_checked(tmp_path):
    counts = domain_shapes.write_domains(str(tmp_path), "night_day", 3, 2, 16, seed=0)
    assert counts == {"trainA": 3, "trainB": 3, "testA": 2, "testB": 2}
    with pytest.raises(ValueError, match="domain kind: expected one of outline_fill, night_day, gray_colour, got 'x'"):
        domain_shapes.scene(np.random.default_rng(0), 16, "A", "x")


def test_gray_colour_test_pairs_are_the_same_scene_in_gray(tmp_path):
    domain_shapes.write_domains(str(tmp_path), "gray_colour", 4, 3, 24, seed=0)

    def read(folder, i):
        return np.asarray(Image.open(os.path.join(tmp_path, folder, f"{i:05d}.png")))

    for i in range(3):
        gray, colour = read("testA", i), read("testB", i)
        luma = np.asarray(Image.fromarray(colour).convert("L"))
        assert np.array_equal(gray[..., 0], luma) and np.array_equal(gray[..., 2], luma)  # 3 equal channels
        assert (colour.max(-1).astype(int) - colour.min(-1)).mean() > 20  # coloured
    train_gray, train_colour = read("trainA", 0), read("trainB", 0)  # training scenes are drawn separately
    assert not np.array_equal(train_gray[..., 0], np.asarray(Image.fromarray(train_colour).convert("L")))
    # a shape's colour follows from its kind: the reddest pixels are an ellipse's red
    b = _images("B", "gray_colour").reshape(-1, 3)
    red = b[(b[:, 0] > 200) & (b[:, 1] < 60)]
    assert len(red) > 50 and np.allclose(red.mean(0), domain_shapes.KIND_COLOURS["ellipse"], atol=1)

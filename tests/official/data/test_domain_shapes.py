"""The generated translation domains (official/data/domain_shapes.py, written by tools.make_domains): line
drawings are black strokes on white, filled scenes are coloured, night scenes are far darker than day ones,
each domain draws its own (unpaired) scenes, and an unknown kind is a one-line error."""

import numpy as np
import pytest

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
    with pytest.raises(ValueError, match="domain kind: expected one of outline_fill, night_day, got 'x'"):
        domain_shapes.scene(np.random.default_rng(0), 16, "A", "x")

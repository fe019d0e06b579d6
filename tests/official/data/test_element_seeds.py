"""Per-element seeds (official/data/element_seeds.py): the i-th element always gets the same `[2]` seed for
the same stream seed, another seed or another input pipeline gives other seeds, and the elements ride along."""

import numpy as np
import tensorflow as tf

from official.data import element_seeds


def _pairs(seed, pipeline_id=0, n=6):
    ds = element_seeds.with_element_seeds(tf.data.Dataset.range(100, 100 + n), seed, pipeline_id)
    return list(ds.as_numpy_iterator())


def test_same_seed_same_stream_elements_kept_in_order():
    first, again = _pairs(7), _pairs(7)
    assert [e for e, _ in first] == list(range(100, 106))
    seeds = np.stack([s for _, s in first])
    assert seeds.shape == (6, 2) and seeds.dtype == np.int64
    np.testing.assert_array_equal(seeds, np.stack([s for _, s in again]))
    assert len({tuple(s) for s in seeds}) == 6  # a new seed per element


def test_other_seed_or_pipeline_gives_other_seeds():
    base = np.stack([s for _, s in _pairs(7)])
    for other in (_pairs(8), _pairs(7, pipeline_id=1)):
        assert not np.array_equal(np.stack([s for _, s in other]), base)

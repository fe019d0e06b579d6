"""tools/make_vos_sequences.py: its DAVIS-layout output reads back through official/data/vos.py with no
skipped sequence, masks are palette PNGs with the DAVIS colours, and the J&F of the ground truth against
itself is 1 while a shifted prediction scores lower."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from official.core.errors import BadValueError
from official.data import vos
from official.evaluation import davis_jf
from tools import make_vos_sequences


def test_generated_sequences_read_back_and_score(tmp_path):
    root = str(tmp_path)
    names = make_vos_sequences.write_dataset(root, train=2, val=2, frames=5, height=32, width=48, max_objects=3, seed=1)
    assert names == {"train": ["train_0000", "train_0001"], "val": ["val_0000", "val_0001"]}
    seqs, skipped = vos.list_davis_sequences(root, "val", min_frames=5)
    assert not skipped and [s.name for s in seqs] == names["val"]
    png = Image.open(seqs[0].masks[0])
    assert png.mode == "P" and png.getpalette()[3:9] == [128, 0, 0, 0, 128, 0]  # DAVIS ids 1 and 2
    metric, shifted = davis_jf.DavisJF(), davis_jf.DavisJF()
    for clip in vos.vos_dataset(seqs, clip_length=0, training=False).as_numpy_iterator():
        masks = clip["masks"]
        seq = next(s for s in seqs if s.name == clip["sequence"].decode())
        assert clip["frames"].shape == (5, 32, 48, 3) and masks.max() == len(seq.objects)
        assert all((masks[0] == k).any() for k in seq.objects)  # every object in the first frame
        assert any(not np.array_equal(masks[0] == k, masks[-1] == k) for k in seq.objects)  # shapes move
        metric.update(seq.name, masks, masks)
        shifted.update(seq.name, masks, np.roll(masks, 3, axis=2))
    assert metric.result()["J&F-Mean"] == 1.0
    assert shifted.result()["J&F-Mean"] < 0.9
    with pytest.raises(BadValueError, match="--frames"):
        make_vos_sequences.write_dataset(root, frames=2)

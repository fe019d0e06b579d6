"""tools.make_hands3d: the FPHA layout the reader accepts, joints that land on their drawn dots, bone
lengths kept through world coordinates, and class-specific motion."""

from __future__ import annotations

import os

import numpy as np

from official.data import fpha
from tools import make_hands3d


def test_layout_reader_and_rendering(tmp_path):
    out = str(tmp_path / "hands")
    counts = make_hands3d.write_hands3d(out, per_subject=1, frames=4, seed=3)
    assert counts == {"train": 9, "test": 3} and os.path.exists(os.path.join(out, ".complete"))
    assert make_hands3d.write_hands3d(out, per_subject=1, frames=4) == {}  # a complete set is kept
    assert os.path.isfile(os.path.join(out, "Video_files/Subject_4/swipe/1/color/color_0003.jpeg"))
    seqs, skipped = fpha.list_sequences(out, "test")
    assert [s.label for s in seqs] == [0, 1, 2] and not skipped
    # world -> camera through FPHA's extrinsics, then the set's intrinsics, hit the coloured joint dots
    ds = fpha.fpha_clips(seqs, 4, 64, False, focal=make_hands3d.FOCAL, center=make_hands3d.CENTER, crop_padding=0.15)
    for clip, y in ds:
        clip, uv = clip.numpy(), y["joints_uv"].numpy()
        background = np.median(clip, axis=(1, 2)).mean()
        tips = [clip[t, int(round(v)), int(round(u))].max() for t in range(4) for u, v in uv[t, [8, 11, 14, 17, 20]]]
        assert np.mean(tips) > background + 60, (np.mean(tips), background)
    # bone lengths survive the world round trip (rigid motion and scale per sequence only)
    bones = [np.linalg.norm(s.joints_world[:, 7] - s.joints_world[:, 6], axis=-1) for s in seqs]
    assert all(np.ptp(b) < 0.01 for b in bones)


def test_classes_move_differently():
    rng = np.random.default_rng(0)
    wave, grasp, swipe = (make_hands3d.sequence_joints(c, 16, rng) for c in range(3))
    finger = lambda j: np.linalg.norm(j[:, 8] - j[:, 0], axis=-1)  # noqa: E731  wrist -> thumb tip distance
    assert np.ptp(finger(grasp)) > 20 and np.ptp(finger(wave)) < 1 and np.ptp(finger(swipe)) < 1
    assert np.ptp(swipe[:, 0, 0]) > 40 and np.ptp(grasp[:, 0, 0]) < 1
    angle = lambda j: np.arctan2(*(j[:, 14, :2] - j[:, 0, :2]).T)  # noqa: E731  in-plane direction of the middle finger
    assert np.ptp(angle(wave)) > 0.5 and np.ptp(angle(swipe)) < 0.05

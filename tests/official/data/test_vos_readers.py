"""DAVIS 2016/2017 and YouTube-VOS readers (official/data/vos.py) on trees written here in the real layout:
JPEG frames and palette ('P') PNG masks whose pixel values are object ids."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from official.core.errors import PathNotFoundError
from official.data import vos

H, W, T = 64, 96, 6
PALETTE = [0, 0, 0, 128, 0, 0, 0, 128, 0] + [200] * (256 * 3 - 9)  # DAVIS-like: id 1 dark red, id 2 green


def _write_png(path: str, ids: np.ndarray, mode: str = "P") -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img = Image.fromarray(ids.astype(np.uint8), mode="P")
    img.putpalette(PALETTE)
    (img if mode == "P" else img.convert("RGB")).save(path)


def _write_jpg(path: str, t: int) -> np.ndarray:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 40 * t, np.arange(W)[None] * 2, 100
    Image.fromarray(rgb).save(path, quality=95)
    return rgb


def _ids(t: int, second_from: int) -> np.ndarray:
    """Object 1 a moving box, object 2 a box present from frame `second_from`, a void border row."""
    m = np.zeros((H, W), np.uint8)
    m[10:30, 5 + 4 * t:25 + 4 * t] = 1
    if t >= second_from:
        m[40:60, 60:90] = 2
    m[0, :] = 255
    return m


@pytest.fixture(scope="module")
def davis_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("davis"))
    truth = {}
    for name, second_from, frames, mode in (("twoobj", 0, T, "P"), ("appears", 2, T, "P"),
                                           ("short", 0, 1, "P"), ("rgbmask", 0, T, "RGB")):
        truth[name] = []
        for t in range(frames):
            rgb = _write_jpg(os.path.join(root, "JPEGImages", "480p", name, f"{t:05d}.jpg"), t)
            ids = _ids(t, second_from)
            _write_png(os.path.join(root, "Annotations", "480p", name, f"{t:05d}.png"), ids, mode)
            truth[name].append((rgb, ids))
    for year in (2016, 2017):
        os.makedirs(os.path.join(root, "ImageSets", str(year)))
        with open(os.path.join(root, "ImageSets", str(year), "val.txt"), "w") as f:
            f.write("twoobj\nappears\nshort\nrgbmask\nmissing\n")
    return root, truth


def test_davis_listing_counts_and_skips_bad_sequences(davis_root):
    root, _ = davis_root
    seqs, skipped = vos.list_davis_sequences(root, "val", min_frames=3)
    assert [s.name for s in seqs] == ["twoobj", "appears"]
    assert skipped == {"too_short": 1, "mask_not_indexed": 1, "missing_frames": 1}
    assert seqs[0].objects == (1, 2) and seqs[1].objects == (1,)  # objects of the first frame (DAVIS)
    assert seqs[0].size == (H, W) and len(seqs[0].frames) == T


def test_davis_clips_carry_palette_ids_and_frames(davis_root):
    root, truth = davis_root
    seqs, _ = vos.list_davis_sequences(root, "val", min_frames=3)
    clips = list(vos.vos_dataset(seqs, clip_length=3, training=False).as_numpy_iterator())
    assert [(c["sequence"].decode(), int(c["start"])) for c in clips] == [
        ("twoobj", 0), ("twoobj", 3), ("appears", 0), ("appears", 3)]
    for clip in clips:
        for k in range(3):
            rgb, ids = truth[clip["sequence"].decode()][int(clip["start"]) + k]
            np.testing.assert_array_equal(clip["masks"][k], ids)  # indices, not palette colours
            assert np.abs(clip["frames"][k].astype(int) - rgb).mean() < 3  # JPEG round trip
        assert clip["annotated"].all()
    assert int(clips[0]["num_objects"]) == 2 and int(clips[2]["num_objects"]) == 1
    assert set(np.unique(clips[2]["masks"][2])) == {0, 1, 2, 255}  # object 2 appears at frame 2
    whole = next(vos.vos_dataset(seqs[:1], clip_length=0, training=False).as_numpy_iterator())
    assert whole["frames"].shape == (T, H, W, 3)
    train = vos.vos_dataset(seqs, clip_length=4, training=True, seed=3).take(6)
    starts = [int(c["start"]) for c in train.as_numpy_iterator()]
    assert all(0 <= s <= T - 4 for s in starts) and len(set(starts)) > 1
    # the same seed reads the same clips in the same order (per-clip seeds; the loads run in parallel)
    def clips_of(seed):
        ds = vos.vos_dataset(seqs, clip_length=4, training=True, seed=seed).take(12)
        return [(bytes(c["sequence"]), int(c["start"])) for c in ds.as_numpy_iterator()]

    assert clips_of(3) == clips_of(3) and clips_of(3) != clips_of(4)


def test_davis2016_is_binary_and_errors_name_the_file(davis_root, tmp_path):
    root, _ = davis_root
    seqs, _ = vos.list_davis_sequences(root, "val", year=2016, min_frames=3)
    assert seqs[0].objects == (1,)
    clip = next(vos.vos_dataset(seqs, clip_length=2, training=False).as_numpy_iterator())
    assert set(np.unique(clip["masks"])) == {0, 1}  # objects 1, 2 and void 255 all become 1
    with pytest.raises(PathNotFoundError, match=r"ImageSets/2017/train.txt"):
        vos.list_davis_sequences(root, "train")


def test_youtube_vos_sparse_annotations_and_meta_errors(tmp_path):
    root = str(tmp_path)
    split = os.path.join(root, "valid")
    for t in range(0, 25, 5):  # frames every 5th, as in the release
        _write_jpg(os.path.join(split, "JPEGImages", "vid1", f"{t:05d}.jpg"), t // 5)
    _write_png(os.path.join(split, "Annotations", "vid1", "00000.png"), _ids(0, 9))
    _write_png(os.path.join(split, "Annotations", "vid1", "00010.png"), _ids(2, 2) * (_ids(2, 2) == 2))
    meta = {"videos": {"vid1": {"objects": {"1": {"category": "cat", "frames": ["00000"]},
                                            "2": {"category": "dog", "frames": ["00010"]}}},
                       "nofiles": {"objects": {"1": {"category": "cat", "frames": ["00000"]}}},
                       "badobj": {"objects": {}}}}
    with open(os.path.join(split, "meta.json"), "w") as f:
        json.dump(meta, f)
    seqs, skipped = vos.list_youtube_vos_sequences(root, "valid")
    assert [s.name for s in seqs] == ["vid1"] and seqs[0].objects == (1, 2)
    assert skipped == {"missing_frames": 1, "bad_meta": 1}
    clip = next(vos.vos_dataset(seqs, clip_length=5, training=False).as_numpy_iterator())
    np.testing.assert_array_equal(clip["annotated"], [True, False, True, False, False])
    np.testing.assert_array_equal(clip["masks"][2], _ids(2, 2) * (_ids(2, 2) == 2))
    assert not clip["masks"][1].any() and int(clip["num_objects"]) == 2
    with open(os.path.join(split, "meta.json"), "w") as f:
        json.dump({"video": {}}, f)
    with pytest.raises(vos.VosFormatError, match=r"meta.json: no 'videos'"):
        vos.list_youtube_vos_sequences(root, "valid")
    with pytest.raises(PathNotFoundError, match=r"train/meta.json"):
        vos.list_youtube_vos_sequences(root, "train")

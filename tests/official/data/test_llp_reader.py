"""official/data/llp.py on a fixture written in LLP's real format (tab-separated CSVs with headers, feats/*/<id>.npy):
weak labels, dense ground truth (a label absent from the weak labels, an event spanning [8, 10]), feature values,
bad records counted and skipped, one-line errors naming the file and the field."""

from __future__ import annotations

import os

import numpy as np
import pytest

from official.core.errors import PathNotFoundError
from official.data import llp

IDS = ["BjCEufrlXm4", "7nSYwyaP4QE", "MVWVECUju4w", "4O9rI-FpqLg", "4YdbENYcIyE", "KSRjje7GH44"]
NAMES = [f"{vid}_{10 * i}_{10 * i + 10}" for i, vid in enumerate(IDS)]
SHAPES = llp.feature_shapes()


def _tsv(path, header, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\t".join(header) + "\n")
        f.writelines("\t".join(str(x) for x in row) + "\n" for row in rows)


def write_fixture(root: str) -> dict:
    rng = np.random.default_rng(0)
    feats = {}
    for modality, folder in llp.FEATURE_DIRS.items():
        os.makedirs(os.path.join(root, folder))
        for vid in IDS:
            feats[modality, vid] = rng.normal(size=SHAPES[modality]).astype(np.float32)
            np.save(os.path.join(root, folder, vid + ".npy"), feats[modality, vid])
    # a wrongly shaped audio file and a video without features
    np.save(os.path.join(root, llp.FEATURE_DIRS["audio"], "badShape000.npy"), np.zeros((9, 128), np.float32))
    for folder in ("video_2d", "video_3d"):
        np.save(os.path.join(root, llp.FEATURE_DIRS[folder], "badShape000.npy"), np.zeros(SHAPES[folder], np.float32))
    header = ("filename", "event_labels")
    _tsv(os.path.join(root, "AVVP_train.csv"), header, [
        (NAMES[0], "Speech,Dog"), (NAMES[1], "Singing,Banjo"), (NAMES[2], "Accordion"), (NAMES[3], "Cheering,Speech,Clapping"),
        ("noFeatures0_0_10", "Speech"), ("badShape000_0_10", "Dog"), (NAMES[0], "Speech,NotAClass"), (NAMES[1], "")])
    _tsv(os.path.join(root, "AVVP_val_pd.csv"), header, [(NAMES[4], "Baby_cry_infant_cry"), (NAMES[5], "Blender,Speech")])
    _tsv(os.path.join(root, "AVVP_test_pd.csv"), header, [(NAMES[5], "Blender,Speech"), (NAMES[4], "Baby_cry_infant_cry")])
    dense = ("filename", "onset", "offset", "event_labels")
    _tsv(os.path.join(root, "AVVP_eval_audio.csv"), dense, [
        (NAMES[4], 0, 4, "Baby_cry_infant_cry"), (NAMES[5], 8, 10, "Blender"), (NAMES[5], 0, 8, "Speech"),
        (NAMES[4], 6, 7, "Dog"),  # a class absent from the weak labels
        (NAMES[4], 7, 11, "Speech"), (NAMES[4], "x", 3, "Speech"), (NAMES[5], 1, 2, "Unicorn")])  # skipped
    _tsv(os.path.join(root, "AVVP_eval_visual.csv"), dense, [
        (NAMES[4], 0, 10, "Baby_cry_infant_cry"), (NAMES[5], 0, 10, "Blender"), (NAMES[5], 3, 5, "Speech")])
    return feats


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("llp"))
    return path, write_fixture(path)


def test_weak_labels_features_and_skipped_rows(root):
    path, feats = root
    videos, skipped = llp.list_videos(path, "train", SHAPES)
    assert [v.filename for v in videos] == NAMES[:4]
    assert dict(skipped) == {"missing_audio": 1, "feature_shape": 1, "bad_labels": 2}
    y = videos[3].label
    assert y.shape == (25,) and y.sum() == 3 and y[[0, 2, 24]].all()  # Speech, Cheering, Clapping
    ds = llp.llp_dataset(videos, SHAPES, training=False)
    for (x, label), video in zip(ds.as_numpy_iterator(), videos, strict=True):
        vid = video.filename[:11]
        for modality in SHAPES:
            np.testing.assert_array_equal(x[modality], feats[modality, vid])
        np.testing.assert_array_equal(label, video.label)
    x, label = next(iter(llp.llp_dataset(videos, SHAPES, training=True, seed=1).batch(3)))
    assert tuple(x["video_2d"].shape) == (3, 80, 2048) and tuple(label.shape) == (3, 25)


def test_dense_ground_truth(root):
    path, _ = root
    videos, _ = llp.list_videos(path, "val", SHAPES)
    gt_a, gt_v, skipped = llp.dense_ground_truth(path, videos)
    assert dict(skipped) == {"audio_bad_onset_offset": 2, "audio_unknown_class": 1}
    cry, dog, speech, blender = (llp.LLP_CLASSES.index(n) for n in ("Baby_cry_infant_cry", "Dog", "Speech", "Blender"))
    want_a = np.zeros((2, 25, 10))
    want_a[0, cry, 0:4] = want_a[0, dog, 6] = 1
    want_a[1, blender, 8:10] = want_a[1, speech, 0:8] = 1
    np.testing.assert_array_equal(gt_a, want_a)
    want_v = np.zeros((2, 25, 10))
    want_v[0, cry] = want_v[1, blender] = 1
    want_v[1, speech, 3:5] = 1
    np.testing.assert_array_equal(gt_v, want_v)
    ds = llp.llp_dataset(videos, SHAPES, training=False, dense=(gt_a, gt_v))
    _, targets = next(ds.as_numpy_iterator())
    assert set(targets) == {"label", "gt_audio", "gt_visual"}
    np.testing.assert_array_equal(targets["gt_audio"], want_a[0])


def test_errors_name_the_file_and_field(root, tmp_path):
    path, _ = root
    with pytest.raises(PathNotFoundError, match=r"AVVP_train\.csv: LLP annotation file does not exist"):
        llp.list_videos(str(tmp_path), "train", SHAPES)
    _tsv(str(tmp_path / "AVVP_train.csv"), ("filename", "labels"), [(NAMES[0], "Speech")])
    with pytest.raises(llp.LlpFormatError, match=r"AVVP_train\.csv: header has no 'event_labels' column"):
        llp.list_videos(str(tmp_path), "train", SHAPES)
    _tsv(str(tmp_path / "AVVP_train.csv"), ("filename", "event_labels"), [(NAMES[0], "Speech")])
    with pytest.raises(PathNotFoundError, match=r"feats/vggish: LLP feature folder for 'audio' does not exist"):
        llp.list_videos(str(tmp_path), "train", SHAPES)
    _tsv(os.path.join(path, "only_bad.csv"), ("filename", "event_labels"), [("noFeatures0_0_10", "Speech")])
    with pytest.raises(llp.LlpFormatError, match=r"only_bad\.csv: no usable video \(skipped: \{'missing_audio': 1\}\)"):
        llp.list_videos(path, "train", SHAPES, csv_name="only_bad.csv")

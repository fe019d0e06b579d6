"""official/data/video_frames.py on a fixture written as real JPEG frame folders, split CSVs and ClassInd.txt."""

import os

import numpy as np
import pytest
import tensorflow as tf

from official.core.errors import PathNotFoundError
from official.data import video_frames as vf

NUM_SEQ, SEQ_LEN, DS = 4, 2, 3  # 24-frame span: videos need > 24 frames


def _write_video(root, cls, vid, n, size=16, corrupt=None):
    d = os.path.join(root, cls, vid)
    os.makedirs(d, exist_ok=True)
    for i in range(n):
        img = np.full((size, size + 4, 3), 2 * i, np.uint8)  # frame i (0-based) has value 2 i: sampling is readable
        data = b"not a jpeg" if corrupt == i else tf.io.encode_jpeg(img, quality=100).numpy()
        with open(os.path.join(d, vf.FRAME_PATTERN % (i + 1)), "wb") as f:
            f.write(data)
    return d


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("ucf"))
    with open(os.path.join(root, "ClassInd.txt"), "w") as f:
        f.write("1 Jump\n2 Run\n")  # UCF101's `index name` form
    rows = []
    for cls in ("Jump", "Run"):
        for v in ("v_a", "v_b"):
            _write_video(root, cls, f"{cls}_{v}", 60)
            rows.append(f"{cls}/{cls}_{v},60")
    _write_video(root, "Run", "short", 20)
    rows.append("Run/short,20")  # 20 <= 24: dropped as the official filter
    rows.append("Swim/x,60")  # class not in ClassInd
    rows.append("Run/missing,60")  # no folder
    _write_video(root, "Jump", "broken", 60, corrupt=30)
    rows.append("Jump/broken,60")  # listed (its folder is complete); the clip reading frame 31 is dropped
    with open(os.path.join(root, "train_split01.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    with open(os.path.join(root, "test_split01.csv"), "w") as f:
        f.write("Jump/broken,60\nRun/Run_v_a,60\n")
    return root


def test_split_names():
    assert vf.split_file("ucf101", "train", 2) == "train_split02.csv"
    assert vf.split_file("hmdb51", "test", 3) == "test_split03.csv"
    assert vf.split_file("kinetics", "val") == "val_split.csv"
    with pytest.raises(vf.VideoFramesError, match="field dataset"):
        vf.split_file("something", "train")


def test_listing_counts_and_errors(fixture, tmp_path):
    videos = vf.list_videos(fixture, os.path.join(fixture, "train_split01.csv"), os.path.join(fixture, "ClassInd.txt"),
                            vf.min_frames(NUM_SEQ, SEQ_LEN, DS))
    assert videos.class_names == ["Jump", "Run"]
    assert len(videos.dirs) == 5 and videos.labels == [0, 0, 1, 1, 0]
    assert dict(videos.skipped) == {"too short": 1, "unknown class": 1, "missing frames": 1}
    bad = tmp_path / "bad.csv"
    bad.write_text("Jump/Jump_v_a,60\nJump/Jump_v_b,sixty\n")
    with pytest.raises(vf.VideoFramesError, match=r"bad.csv:2: .*field num_frames"):
        vf.list_videos(fixture, str(bad), os.path.join(fixture, "ClassInd.txt"), 24)
    with pytest.raises(PathNotFoundError, match="nope.csv"):
        vf.list_videos(fixture, str(tmp_path / "nope.csv"), os.path.join(fixture, "ClassInd.txt"), 24)


def test_eval_clips_sample_the_official_indices(fixture):
    videos = vf.list_videos(fixture, os.path.join(fixture, "test_split01.csv"), os.path.join(fixture, "ClassInd.txt"),
                            vf.min_frames(NUM_SEQ, SEQ_LEN, DS))
    out = list(vf.clip_dataset(videos, NUM_SEQ, SEQ_LEN, DS, img_dim=8, training=False, normalize=False))
    assert len(out) == 1  # the clip with the corrupt frame 31 is dropped (ignore_errors)
    clip = out[0]["clip"].numpy()
    assert clip.shape == (NUM_SEQ, SEQ_LEN, 8, 8, 3) and int(out[0]["label"]) == 1
    start = (60 - NUM_SEQ * SEQ_LEN * DS) // 2
    expected = 2 * (start + DS * np.arange(NUM_SEQ * SEQ_LEN)).reshape(NUM_SEQ, SEQ_LEN) / 255.0
    np.testing.assert_allclose(clip.mean(axis=(2, 3, 4)), expected, atol=1.2 / 255)


def test_training_clips_random_start_and_augment(fixture):
    videos = vf.list_videos(fixture, os.path.join(fixture, "train_split01.csv"), os.path.join(fixture, "ClassInd.txt"),
                            vf.min_frames(NUM_SEQ, SEQ_LEN, DS))
    plain = vf.clip_dataset(videos, NUM_SEQ, SEQ_LEN, DS, img_dim=8, training=True, grey_p=0.0,
                            jitter=(0, 0, 0, 0), normalize=False, seed=1)
    starts = set()
    for ex in plain.take(4):
        v = ex["clip"].numpy().mean(axis=(2, 3, 4)).reshape(-1) * 255 / 2  # frame indices
        np.testing.assert_allclose(np.diff(v), DS, atol=1.5)  # spacing by downsample
        assert 0 <= v[0] < 60 - NUM_SEQ * SEQ_LEN * DS + 1
        starts.add(round(v[0]))
    assert len(starts) > 1  # random starts
    aug = next(iter(vf.clip_dataset(videos, NUM_SEQ, SEQ_LEN, DS, img_dim=8, training=True, seed=2)))["clip"].numpy()
    assert aug.shape == (NUM_SEQ, SEQ_LEN, 8, 8, 3) and np.isfinite(aug).all()
    raw = next(iter(plain))["clip"].numpy()
    assert not np.allclose(aug.std(axis=(2, 3)), 0) or not np.allclose(aug.mean(axis=(2, 3, 4)), raw.mean(axis=(2, 3, 4)))
    assert np.abs(aug).max() < 3  # ImageNet-normalised range


def test_crop_and_colour_draws_are_independent():
    """Each random quantity has its own stream: one stateful op seed shared by the crop's four draws gave the
    same number to all of them (aspect tied to area, top tied to left: crops only along the diagonal; the colour
    factors were tied the same way). A frame whose channels hold the row and the column shows each crop's box:
    over 60 seeds the top and left fractions must not move together (x0 planted on the top's seed: correlation
    1.0). The colour draws: a different brightness per seed, the same for the same seed."""
    h, w = 40, 60
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
    frames = tf.constant(np.stack([rows, cols, np.zeros_like(rows)], -1)[None])
    tops, lefts = [], []
    for i in range(60):
        crop = vf.random_sized_crop(frames, 8, tf.constant([i, 7], tf.int64)).numpy()[0]
        # crop_and_resize samples the box's corners at (h - 1) / h of their normalised coordinates
        y0, ch = crop[0, 0, 0] * h / (h - 1), (crop[-1, 0, 0] - crop[0, 0, 0]) * h / (h - 1)
        x0, cw = crop[0, 0, 1] * w / (w - 1), (crop[0, -1, 1] - crop[0, 0, 1]) * w / (w - 1)
        if h - ch > 1.5 and w - cw > 1.5:  # room to move on both axes: the draw is readable
            tops.append(y0 / (h - ch))
            lefts.append(x0 / (w - cw))
    assert len(tops) >= 10
    assert abs(np.corrcoef(tops, lefts)[0, 1]) < 0.8, np.corrcoef(tops, lefts)[0, 1]  # shared draws: 1.0
    gray = tf.fill((6, 4, 4, 3), 0.5)
    seeds = [tf.constant([i, 3], tf.int64) for i in range(6)]
    means = [float(vf.colour_augment(gray, 0.0, (0.5, 0.0, 0.0, 0.0), s).numpy().mean()) for s in seeds]
    assert len({round(m, 6) for m in means}) == 6  # brightness alone: a different factor per seed
    again = [float(vf.colour_augment(gray, 0.0, (0.5, 0.0, 0.0, 0.0), s).numpy().mean()) for s in seeds]
    assert again == means  # the same seed, the same draw


def test_seeded_training_stream_is_reproducible(fixture):
    """8 tf.data threads give the 1-thread stream: every draw comes from the clip's own seed."""
    videos = vf.list_videos(fixture, os.path.join(fixture, "train_split01.csv"), os.path.join(fixture, "ClassInd.txt"),
                            vf.min_frames(NUM_SEQ, SEQ_LEN, DS))

    def stream(threads):
        tf.random.set_seed(3)  # as the trainer's keras.utils.set_random_seed
        options = tf.data.Options()
        options.threading.private_threadpool_size = threads
        ds = vf.clip_dataset(videos, NUM_SEQ, SEQ_LEN, DS, img_dim=8, training=True, seed=0).with_options(options)
        return np.stack([ex["clip"] for ex in ds.take(12).as_numpy_iterator()])

    serial = stream(1)
    np.testing.assert_array_equal(stream(8), serial)

"""ActivityNet v1.3 JSON + per-second feature CSV reader on a fixture written in the real formats."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from official.core.errors import PathNotFoundError
from official.data import activitynet as anet


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("anet")
    feats = root / "features"
    feats.mkdir()
    rng = np.random.default_rng(0)
    db = {
        "good1": {"subset": "training", "duration": 40.0, "url": "", "resolution": "320x240",
                  "annotations": [{"segment": [4.0, 12.0], "label": "Jumping"}, {"segment": [30.0, 45.0], "label": "Diving"}]},
        "good2": {"subset": "training", "duration": 80.0, "annotations": [{"segment": [10.0, 50.0], "label": "Diving"}]},
        "good3": {"subset": "training", "duration": 20.0, "annotations": [{"segment": [0.0, 5.0], "label": "Jumping"}]},
        "no_duration": {"subset": "training", "annotations": [{"segment": [1, 2], "label": "Diving"}]},
        "empty_segment": {"subset": "training", "duration": 10.0, "annotations": [{"segment": [12, 15], "label": "Diving"}]},
        "unlabeled": {"subset": "training", "duration": 10.0, "annotations": []},
        "no_file": {"subset": "training", "duration": 10.0, "annotations": [{"segment": [1, 2], "label": "Diving"}]},
        "narrow": {"subset": "training", "duration": 10.0, "annotations": [{"segment": [1, 2], "label": "Diving"}]},
        "val1": {"subset": "validation", "duration": 10.0, "annotations": [{"segment": [1, 2], "label": "Other"}]},
    }
    (root / "activity_net.v1-3.min.json").write_text(json.dumps({"version": "VERSION 1.3", "taxonomy": [], "database": db}))
    arrays = {}
    for vid, n in (("good1", 40), ("good2", 80), ("good3", 20), ("no_duration", 5), ("empty_segment", 10),
                   ("unlabeled", 10)):
        arrays[vid] = rng.normal(size=(n, 2048)).astype(np.float32)
        anet.write_feature_csv(str(feats / f"{vid}.csv"), arrays[vid])
    anet.write_feature_csv(str(feats / "narrow.csv"), rng.normal(size=(10, 7)))
    return root, arrays


def test_index_counts_and_skips_bad_records(fixture_dir):
    root, _ = fixture_dir
    videos = anet.load_videos(str(root / "activity_net.v1-3.min.json"), "training",
                              feature_dir=str(root / "features"), feature_dim=2048)
    assert [r.video_id for r in videos.records] == ["good1", "good2", "good3"]
    assert videos.classes == ["Diving", "Jumping"]
    assert videos.skipped == {"bad_record": 2, "no_segments": 1, "missing_features": 1, "bad_features": 1}
    np.testing.assert_allclose(videos.records[0].segments, [[4, 12], [30, 40]])  # clipped to the duration
    np.testing.assert_array_equal(videos.records[0].labels, [1, 0])


def test_dataset_resamples_features_and_scales_segments(fixture_dir):
    root, arrays = fixture_dir
    videos = anet.load_videos(str(root / "activity_net.v1-3.min.json"), "training",
                              feature_dir=str(root / "features"), feature_dim=2048)
    items = list(anet.activitynet_dataset(videos, 2048, temporal_length=512, max_segments=3).as_numpy_iterator())
    assert len(items) == 3
    first = items[0]
    assert first["features"].shape == (512, 2048) and first["video_id"] == b"good1"
    x = arrays["good1"]
    pos = np.clip((np.arange(512) + 0.5) * 40 / 512 - 0.5, 0, 39)
    want = np.stack([np.interp(pos, np.arange(40), x[:, d]) for d in (0, 5, 2047)], -1)
    np.testing.assert_allclose(first["features"][:, [0, 5, 2047]], want, atol=1e-4)
    np.testing.assert_allclose(first["segments"], [[51.2, 153.6], [384, 512], [-1, -1]], atol=1e-3)
    np.testing.assert_array_equal(first["labels"], [1, 0, -1])
    assert first["num_segments"] == 2 and first["duration"] == 40.0


def test_one_line_errors_name_file_and_field(tmp_path):
    with pytest.raises(PathNotFoundError, match="nope.json: no such file"):
        anet.load_videos(str(tmp_path / "nope.json"))
    (tmp_path / "x.json").write_text(json.dumps({"videos": {}}))
    with pytest.raises(anet.ActivityNetFormatError, match=r"x.json: missing field 'database'"):
        anet.load_videos(str(tmp_path / "x.json"))
    with pytest.raises(anet.ActivityNetFormatError, match=r"x.json: missing field 'results'"):
        anet.read_predictions(str(tmp_path / "x.json"))
    (tmp_path / "g.json").write_text(json.dumps({"database": {"v": {"subset": "validation", "annotations": [{"label": "a"}]}}}))
    with pytest.raises(anet.ActivityNetFormatError, match=r"g.json: database\['v'\]: annotations\[0\]: needs 'label' and 'segment'"):
        anet.read_ground_truth(str(tmp_path / "g.json"))
    (tmp_path / "bad.csv").write_text("f0,f1\n1,2\n3,x\n")
    with pytest.raises(anet.ActivityNetFormatError, match="bad.csv: malformed feature rows"):
        anet.read_feature_csv(str(tmp_path / "bad.csv"))


def test_moments_csv_counts_bad_rows_and_names_missing_columns(fixture_dir, tmp_path):
    from official.data import video_moments

    root, _ = fixture_dir
    csv_path = tmp_path / "moments.csv"
    video_moments.write_moments_csv(str(csv_path), [("Diving", "good1"), ("Jumping", "good2"), ("Surfing", "good3"),
                                                    ("Diving", "absent"), ("Diving", "narrow")])
    moments = video_moments.load_moments(str(csv_path), str(root / "features"), ["Diving", "Jumping"], 2048)
    assert [os.path.basename(p) for p in moments.paths] == ["good1.csv", "good2.csv"]
    np.testing.assert_array_equal(moments.labels, [0, 1])
    assert moments.skipped == {"unknown_label": 1, "missing_features": 1, "bad_features": 1}
    (tmp_path / "bad.csv").write_text("category,youtube_id\nDiving,good1\n")
    with pytest.raises(anet.ActivityNetFormatError, match="bad.csv: header lacks column 'label'"):
        video_moments.load_moments(str(tmp_path / "bad.csv"), str(root / "features"), ["Diving"], 2048)

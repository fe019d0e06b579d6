"""The synthetic crowd end to end in the on-disk layout: tools.make_crowd_views -> AlphaPose JSON +
calibration -> matching -> MLE -> MAP -> 3D JSON; bad inputs are one-line errors naming file and field."""

import json
import os

import numpy as np
import pytest

from official.core.errors import PathNotFoundError
from research.three_d.crowd3dpose import io as crowd_io
from research.three_d.crowd3dpose.reconstruct import PipelineConfig, evaluate, reconstruct


@pytest.fixture(scope="module")
def crowd_dir(tmp_path_factory):
    from tools.make_crowd_views import write_crowd_views

    out = str(tmp_path_factory.mktemp("crowd") / "views")
    assert write_crowd_views(out, frames=2)
    assert not write_crowd_views(out, frames=2)  # a complete set is kept
    return out


def _run(crowd_dir, **config):
    calibration = crowd_io.load_calibration(os.path.join(crowd_dir, "calibration.json"))
    views = [crowd_io.load_alphapose(os.path.join(crowd_dir, name, "alphapose-results.json"))
             for name in calibration["names"]]
    return reconstruct(views, calibration, PipelineConfig(**config))


def test_end_to_end_feet_matching_and_map(crowd_dir):
    result = _run(crowd_dir)
    gt = crowd_io.load_json(os.path.join(crowd_dir, "gt_3d.json"))
    metrics = evaluate(result, gt)
    assert metrics["matching_accuracy"] == 1.0 and metrics["people"] == 24.0
    assert metrics["mpjpe_mm"] < 10.0 and metrics["pcp"] == 100.0
    frame = result["3D"]["00000000"]
    assert len(frame) == 12 and all(len(v) == 69 for v in frame.values())
    np.testing.assert_allclose(result["P4"], gt["P4"]) and np.testing.assert_allclose(result["P6"], gt["P6"])
    json.dumps(result)  # the 3D JSON is plain JSON


def test_two_views_and_epipolar_baseline(crowd_dir):
    calibration = crowd_io.load_calibration(os.path.join(crowd_dir, "calibration.json"))
    calibration = {k: v[:2] for k, v in calibration.items()}
    views = [crowd_io.load_alphapose(os.path.join(crowd_dir, n, "alphapose-results.json")) for n in ("C0", "C1")]
    gt = crowd_io.load_json(os.path.join(crowd_dir, "gt_3d.json"))
    result = reconstruct(views, calibration, PipelineConfig(matching="epipolar", refine="mle"))
    metrics = evaluate(result, gt)
    assert metrics["matching_accuracy"] == 1.0 and metrics["mpjpe_mm"] < 25.0


def test_bad_inputs(tmp_path, crowd_dir):
    with pytest.raises(PathNotFoundError, match="nope.json: no such file"):
        crowd_io.load_alphapose(str(tmp_path / "nope.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"cameras": [{"name": "C0", "K": [[1, 0], [0, 1]], "R": [[1, 0, 0]] * 3, "t": [0, 0, 0]}]}))
    with pytest.raises(crowd_io.CrowdFileError, match=r"bad.json: cameras\[0\].K must be a finite 3x3 matrix"):
        crowd_io.load_calibration(str(bad))
    records = json.load(open(os.path.join(crowd_dir, "C0", "alphapose-results.json")))
    records[0]["keypoints"] = records[0]["keypoints"][:60]
    records[1] = "junk"
    path = tmp_path / "alphapose.json"
    path.write_text(json.dumps(records))
    frames = crowd_io.load_alphapose(str(path))
    assert sum(len(f["ids"]) for f in frames.values()) == len(records) - 2  # counted and skipped
    path.write_text(json.dumps({"not": "a list"}))
    with pytest.raises(crowd_io.CrowdFileError, match="alphapose.json: expected a JSON list"):
        crowd_io.load_alphapose(str(path))

"""The demo's pass/fail bar: Keras and SavedModel above 90%, int8 within 2 points; bad files named."""

from __future__ import annotations

import json

import pytest

from tools.check_demo import check, read_top1


def test_bar_passes_and_fails_on_each_condition():
    assert check(0.95, 0.95, 0.94, 0.90, 0.02) == []
    assert len(check(0.89, 0.95, 0.89, 0.90, 0.02)) == 1  # Keras below the bar
    assert len(check(0.95, 0.90, 0.95, 0.90, 0.02)) == 1  # "above 90%" is strict
    failures = check(0.95, 0.95, 0.92, 0.90, 0.02)  # int8 three points down
    assert len(failures) == 1 and "int8" in failures[0]
    assert check(0.95, 0.95, 0.97, 0.90, 0.02) == []  # int8 better than Keras is fine


def test_read_top1_names_the_file_and_field(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"top1": 0.9698, "examples": 364}))
    assert read_top1(str(good)) == pytest.approx(0.9698)
    missing_key = tmp_path / "nokey.json"
    missing_key.write_text(json.dumps({"loss": 0.1}))
    with pytest.raises(ValueError, match=r"nokey\.json: no 'top1' field"):
        read_top1(str(missing_key))
    with pytest.raises(ValueError, match=r"absent\.json: cannot read"):
        read_top1(str(tmp_path / "absent.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.json"):
        read_top1(str(broken))

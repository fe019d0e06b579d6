"""Every YAML under configs/ loads onto the experiment its header names (`--experiment=NAME`)."""

from __future__ import annotations

import glob
import os
import re

import pytest

from official.core import config as config_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = sorted(glob.glob(os.path.join(REPO, "configs", "*", "*.yaml")))


@pytest.mark.parametrize("path", FILES, ids=[os.path.relpath(p, REPO) for p in FILES])
def test_config_file_resolves_on_its_experiment(path):
    with open(path, encoding="utf-8") as f:
        names = re.findall(r"--experiment=(\w+)", f.read())
    assert names, f"{path}: the header names no --experiment"
    for name in set(names):
        cfg = config_lib.resolve(name, config_files=[path])
        assert cfg.experiment == name
        method = config_lib.load_yaml_file(path).get("training", {}).get("method")
        if method:
            assert cfg.training.method == method

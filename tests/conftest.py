"""Shared fixtures: small real-format datasets written once per session."""

from __future__ import annotations

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory) -> str:
    """The real digits dataset (1,433 train / 364 val PNGs) in the ImageNet folder layout."""
    from tools.make_digits import write_digits

    out = str(tmp_path_factory.mktemp("digits") / "digits")
    write_digits(out)
    return out

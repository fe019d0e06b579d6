"""Shared fixtures: small real-format datasets written once per session."""

from __future__ import annotations

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# XLA on CPU without LLVM's machine-code optimisation, for the tests' jit_compile=True steps and the JAX
# subprocesses (which inherit it): the same HLO graph and XLA ops, compiled 2-3x faster (33 XLA-heavy tests of
# rtm3d, pointcontrast, isp, hmor, partaware and conv_onet: 236.5 s -> 185.8 s on 2 cores, all passing). XLA
# reads the flag once per process, so it is set here, before any test imports TensorFlow or JAX.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory) -> str:
    """The real digits dataset (1,433 train / 364 val PNGs) in the ImageNet folder layout."""
    from tools.make_digits import write_digits

    out = str(tmp_path_factory.mktemp("digits") / "digits")
    write_digits(out)
    return out

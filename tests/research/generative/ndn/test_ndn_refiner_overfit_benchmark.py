"""Smoke run of benchmarks/ndn_refiner_overfit.py (spec check 7's measurement; make check-benchmarks, not CI)."""

import pytest

from benchmarks import ndn_refiner_overfit


@pytest.mark.benchmark
def test_two_steps_score_the_perturbation_baseline():
    out = ndn_refiner_overfit.run("ndn_tiny", steps=2, lr=1e-3)
    # E|N(0, 0.05)| = 0.05 * sqrt(2 / pi) = 0.0399 before clipping at 0 and 1 (clipping only lowers it)
    assert 0.03 < out["l1_perturbed_input"] < 0.042
    assert out["steps"] == 2 and out["trainable_refiner_params"] > 0 and out["passes"] is False

"""HMOR test fixtures (hmor_fixtures.py)."""

from tests.research.three_d.hmor.hmor_fixtures import humans_dir  # noqa: F401  (fixture)

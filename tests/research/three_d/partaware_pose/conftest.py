"""PartAwarePose test fixtures (pa_fixtures.py)."""

from tests.research.three_d.partaware_pose.pa_fixtures import h36m_dir  # noqa: F401  (fixture)

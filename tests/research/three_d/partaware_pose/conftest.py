"""PartAwarePose test fixtures (pa_fixtures.py)."""

from tests.research.three_d.partaware_pose.pa_fixtures import h36m_dir, trained_micro  # noqa: F401  (fixtures)

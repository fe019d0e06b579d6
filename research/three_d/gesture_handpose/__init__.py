"""Gesture+HandPose (ECCV 2020): collaborative gesture recognition and 3D hand pose; registers the
variants, experiments and the `gesture_handpose` task."""

from research.three_d.gesture_handpose import experiments, task, variants  # noqa: F401

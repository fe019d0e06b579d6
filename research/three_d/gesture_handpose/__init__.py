"""Gesture+HandPose (ECCV 2020): collaborative gesture recognition and 3D hand pose; registers the
variants and experiments (TensorFlow-free: the JAX benchmark machine imports the model); the
`gesture_handpose` task registers from `research.three_d.gesture_handpose.task` (zoo_index lists both)."""

from research.three_d.gesture_handpose import experiments, variants  # noqa: F401

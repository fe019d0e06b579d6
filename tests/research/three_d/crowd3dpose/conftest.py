"""The spec card's synthetic crowd (seed 0: 12 people, 3 cameras, 1 px noise, 3 occluded joints per view)."""

import numpy as np
import pytest

from research.three_d.crowd3dpose.synthetic import make_crowd


@pytest.fixture(scope="session")
def crowd():
    return make_crowd(seed=0, frames=2)


def view(crowd, camera: int, frame: int = 0):
    """(N, 23, 3) keypoints of one view and frame, and the GT person of each row."""
    records = crowd.detections[camera][frame]
    keypoints = np.asarray([r["keypoints"] for r in records], np.float64).reshape(-1, 23, 3)
    return keypoints, [crowd.person_of[camera][frame][r["id"]] for r in records]


def person_views(crowd, person: int, cameras=(0, 1, 2), frame: int = 0) -> np.ndarray:
    """(V, 23, 3) detections of one person in the given cameras."""
    out = []
    for c in cameras:
        keypoints, people = view(crowd, c, frame)
        out.append(keypoints[people.index(person)])
    return np.stack(out)

"""Keypoints and training examples for S2DNet on HPatches-layout pairs (numpy; tf.data wraps it in task.py).

Keypoints: Harris corners (scikit-image), strongest first, padded to a fixed count with a mask. The paper uses
SuperPoint detections (weights are a download): README "Known differences".
Training example of a pair (1, k) with homography H (OpenCV pixel coordinates): source keypoints p (Harris,
topped up with uniform random points), their ground truth H(p) in the target, valid where H(p) falls inside
the target image; with probability 1/2 the pair is used backwards (k, 1) with H^-1. All keypoints handed to
the model are continuous pixels (OpenCV + 0.5, see matching.py).
"""

from __future__ import annotations

import numpy as np

from official.data.hpatches import apply_homography


def detect_keypoints(image: np.ndarray, count: int, border: int = 4, min_distance: int = 2) -> np.ndarray:
    """Up to `count` Harris corners (K, 2) as OpenCV (x, y), strongest first, `border` px from the edges."""
    from skimage.feature import corner_harris, corner_peaks

    gray = np.asarray(image, np.float32)
    gray = gray.mean(axis=2) if gray.ndim == 3 else gray
    response = corner_harris(gray, sigma=1.0)
    peaks = corner_peaks(response, min_distance=min_distance, threshold_rel=1e-3, exclude_border=border,
                         num_peaks=count)
    if len(peaks) == 0:
        return np.zeros((0, 2), np.float32)
    order = np.argsort(-response[peaks[:, 0], peaks[:, 1]], kind="stable")
    return peaks[order][:, ::-1].astype(np.float32)


def pad_keypoints(points: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(count, 2) points (zeros beyond the real ones) and the (count,) mask of real ones."""
    out = np.zeros((count, 2), np.float32)
    n = min(len(points), count)
    out[:n] = points[:n]
    mask = np.zeros((count,), bool)
    mask[:n] = True
    return out, mask


def training_example(image: np.ndarray, target: np.ndarray, homography: np.ndarray, count: int,
                     rng: np.random.Generator, swap: bool = True) -> tuple[np.ndarray, dict]:
    """(pair (2, H, W, 3) float32, {keypoints, target_keypoints (count, 2) continuous px, keypoint_mask})."""
    h = np.asarray(homography, np.float64)
    if swap and rng.random() < 0.5:
        image, target, h = target, image, np.linalg.inv(h)
    height, width = image.shape[:2]
    corners = detect_keypoints(image, count // 2)
    extra = rng.uniform([0, 0], [width - 1, height - 1], size=(count - len(corners), 2)).astype(np.float32)
    points = np.concatenate([corners, extra], axis=0)[:count]
    warped = apply_homography(h, points).astype(np.float32)
    th, tw = target.shape[:2]
    inside = (warped[:, 0] >= -0.5) & (warped[:, 0] < tw - 0.5) & (warped[:, 1] >= -0.5) & (warped[:, 1] < th - 0.5)
    labels = {"keypoints": points + 0.5, "target_keypoints": np.where(inside[:, None], warped + 0.5, 0.0).astype(np.float32),
              "keypoint_mask": inside}
    return np.stack([image, target]).astype(np.float32), labels

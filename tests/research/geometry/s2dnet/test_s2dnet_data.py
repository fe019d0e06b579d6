"""HPatches reader on a real-format fixture (METHOD_CONTRACT item 3) and the MMA harness (spec check 6):
OpenCV SIFT + ratio test matches scored by our MMA equal a direct numpy computation, and reach MMA(3) > 0.9."""

from __future__ import annotations

import logging
import os

import cv2
import numpy as np
import pytest

from official.core.errors import PathNotFoundError
from official.data import hpatches
from official.evaluation.hpatches_mma import MeanMatchingAccuracy, pair_accuracy

H_12 = np.array([[0.95, 0.06, 6.0], [-0.04, 1.02, 3.0], [1.5e-4, -1e-4, 1.0]])


@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory) -> str:
    """v_texture: a 96x128 random-texture 1.ppm, 2.ppm = cv2.warpPerspective by H_12, 3.ppm = shift by 16 px;
    plus a sequence with a broken homography file and one without 1.ppm (both skipped)."""
    root = str(tmp_path_factory.mktemp("hpatches"))
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.uniform(0, 255, (24, 32 + 4, 3)).astype(np.float32), (128 + 16, 96),
                      interpolation=cv2.INTER_CUBIC)
    base = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
    image1 = base[:, 16:]
    seq = os.path.join(root, "v_texture")
    os.makedirs(seq)
    hpatches.write_ppm(os.path.join(seq, "1.ppm"), image1)
    hpatches.write_ppm(os.path.join(seq, "2.ppm"), cv2.warpPerspective(image1, H_12, (128, 96)))
    hpatches.write_homography(os.path.join(seq, "H_1_2"), H_12)
    hpatches.write_ppm(os.path.join(seq, "3.ppm"), np.ascontiguousarray(base[:, :128]))
    hpatches.write_homography(os.path.join(seq, "H_1_3"), np.array([[1, 0, 16], [0, 1, 0], [0, 0, 1.0]]))
    bad = os.path.join(root, "i_broken")
    os.makedirs(bad)
    hpatches.write_ppm(os.path.join(bad, "1.ppm"), image1)
    hpatches.write_ppm(os.path.join(bad, "2.ppm"), image1)
    with open(os.path.join(bad, "H_1_2"), "w") as f:
        f.write("1 0 0\n0 1\n")
    os.makedirs(os.path.join(root, "v_empty"))
    return root


def test_reader_reads_pairs_and_skips_bad_records(fixture_root, caplog):
    with caplog.at_level(logging.WARNING):
        pairs, skipped = hpatches.list_pairs(fixture_root)
    assert [(p.sequence, p.index, p.kind) for p in pairs] == [("v_texture", 2, "v"), ("v_texture", 3, "v")]
    assert skipped == 2 and "H_1_2: homography: expected 9 finite numbers, got 5" in caplog.text
    loaded = hpatches.load_pair(pairs[0])
    assert loaded["image"].shape == (96, 128, 3) and loaded["image"].dtype == np.uint8
    np.testing.assert_allclose(loaded["homography"], H_12)
    ds = hpatches.hpatches_dataset(pairs, (96, 128))
    first = next(iter(ds))
    assert first["image"].shape == (96, 128, 3) and float(first["image"].numpy().max()) <= 1.0
    resized = hpatches.load_pair(pairs[1], (48, 64))  # half size: a 16 px shift becomes 8 px
    np.testing.assert_allclose(resized["homography"], [[1, 0, 8], [0, 1, 0], [0, 0, 1]], atol=1e-12)


def test_reader_errors_name_the_path(tmp_path):
    with pytest.raises(PathNotFoundError, match=r"nowhere: HPatches root not found"):
        hpatches.list_pairs(str(tmp_path / "nowhere"))
    with pytest.raises(hpatches.HPatchesError, match="no HPatches sequences"):
        hpatches.list_pairs(str(tmp_path))
    path = tmp_path / "bad.ppm"
    path.write_bytes(b"P6\n4 4\n255\n" + bytes(10))
    with pytest.raises(hpatches.HPatchesError, match=r"bad.ppm: PPM pixels: 10 bytes, header says 48"):
        hpatches.read_ppm(str(path))


def sift_matches(image1: np.ndarray, image2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sift = cv2.SIFT_create()
    k1, d1 = sift.detectAndCompute(cv2.cvtColor(image1, cv2.COLOR_RGB2GRAY), None)
    k2, d2 = sift.detectAndCompute(cv2.cvtColor(image2, cv2.COLOR_RGB2GRAY), None)
    good = [m for m, n in cv2.BFMatcher().knnMatch(d1, d2, k=2) if m.distance < 0.8 * n.distance]
    return (np.array([k1[m.queryIdx].pt for m in good]), np.array([k2[m.trainIdx].pt for m in good]))


def test_mma_of_sift_matches_equals_numpy(fixture_root):
    pairs, _ = hpatches.list_pairs(fixture_root)
    mma = MeanMatchingAccuracy()
    direct = []
    for pair in pairs:
        loaded = hpatches.load_pair(pair)
        src, dst = sift_matches(loaded["image"], loaded["target_image"])
        assert len(src) > 20
        mma.update(src, dst, loaded["homography"], pair.kind)
        h = loaded["homography"]
        proj = np.c_[src, np.ones(len(src))] @ h.T
        err = np.hypot(*(proj[:, :2] / proj[:, 2:] - dst).T)
        direct.append([np.mean(err <= t) for t in range(1, 11)])
    result = mma.result()
    want = np.mean(direct, axis=0)
    for t in range(1, 11):
        assert result[f"mma@{t}"] == pytest.approx(want[t - 1], abs=1e-12)
        assert result[f"mma_v@{t}"] == pytest.approx(want[t - 1], abs=1e-12)
    assert result["mma@3"] > 0.9  # fixture sanity: SIFT matches it well
    assert "mma_i@3" not in result


def test_pair_accuracy_edge_cases():
    h = np.eye(3)
    assert pair_accuracy(np.zeros((0, 2)), np.zeros((0, 2)), h).tolist() == [0.0] * 10  # no match: 0
    acc = pair_accuracy(np.array([[0.0, 0.0], [0.0, 0.0]]), np.array([[3.0, 0.0], [3.0, 4.0]]), h)
    assert acc.tolist() == [0, 0, 0.5, 0.5, 1, 1, 1, 1, 1, 1]  # distances 3 and 5, thresholds inclusive

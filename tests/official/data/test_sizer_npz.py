"""The SIZER SizerNet .npz reader on a fixture written here in the authors' layout (synthetic template):
the 9 pairs per subject in the code's order, bad subjects skipped, errors naming file and key."""

import logging

import numpy as np
import pytest

from official.data import sizer_npz
from research.three_d.sizer import synthetic


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return synthetic.write_sizer_files(str(tmp_path_factory.mktemp("sizer")), num_subjects=3, seed=0)


def test_pairs_follow_the_code_order(files, tmp_path):
    raw = dict(np.load(files["sizer"]))
    raw["betas1"], raw["betas2"] = raw["betas0"] + 1.0, raw["betas0"] - 0.5  # scans disagree on the shape
    path = str(tmp_path / "g5_size.npz")
    np.savez(path, **raw)
    data = sizer_npz.load_sizer_npz(path)
    assert data["pose_upper0"].shape == (3, len(files["template"]["vert_indices"]), 3)
    pairs = sizer_npz.sizer_pairs(data)
    assert pairs["garment"].shape[0] == 27
    s = 1  # subject 1, pair (input 2, output 0) is row 9 * 1 + 3 * 2 + 0
    row = 9 * s + 6
    np.testing.assert_array_equal(pairs["garment"][row], raw["pose_upper2"][s])
    np.testing.assert_array_equal(pairs["target"][row], raw["pose_upper0"][s])
    np.testing.assert_array_equal(pairs["pose"][row], raw["pose0"][s])
    np.testing.assert_array_equal(pairs["trans"][row], raw["trans0"][s])
    mean_betas = (raw["betas0"][s] + raw["betas1"][s] + raw["betas2"][s])[:10] / 3  # the code's SizerData
    np.testing.assert_allclose(pairs["betas"][row], mean_betas, rtol=1e-6)
    assert pairs["size_in"][row].argmax() == raw["size2"][s] and pairs["size_out"][row].argmax() == raw["size0"][s]
    assert pairs["size_in"].sum() == 27 and set(np.unique(pairs["size_in"])) == {0.0, 1.0}
    ds = sizer_npz.sizer_dataset(path, batch_size=9)
    first = next(iter(ds))
    assert first["garment"].shape == (9, pairs["garment"].shape[1], 3)
    np.testing.assert_array_equal(first["target"].numpy(), pairs["target"][:9])
    assert sum(1 for _ in ds) == 3


def test_bad_subjects_skipped_and_errors_name_file_and_key(files, tmp_path, caplog):
    raw = dict(np.load(files["sizer"]))
    bad = dict(raw, size1=raw["size1"].copy(), trans2=raw["trans2"].copy())
    bad["size1"][0] = 7
    bad["trans2"][2, 1] = np.nan
    path = str(tmp_path / "bad.npz")
    np.savez(path, **bad)
    with caplog.at_level(logging.WARNING):
        data = sizer_npz.load_sizer_npz(path)
    assert data["size0"].shape == (1,) and "skipped 2 of 3 subjects" in caplog.text
    np.testing.assert_array_equal(data["pose_upper0"][0], raw["pose_upper0"][1])
    missing = str(tmp_path / "missing_key.npz")
    np.savez(missing, **{k: v for k, v in raw.items() if k != "betas1"})
    with pytest.raises(sizer_npz.SizerDataError, match=r"missing_key\.npz: missing key 'betas1'"):
        sizer_npz.load_sizer_npz(missing)
    wrong = str(tmp_path / "wrong.npz")
    np.savez(wrong, **dict(raw, pose2=raw["pose2"][:, :69]))
    with pytest.raises(sizer_npz.SizerDataError, match=r"wrong\.npz: key 'pose2' has shape \(3, 69\), expected \(3, 72\)"):
        sizer_npz.load_sizer_npz(wrong)
    with pytest.raises(sizer_npz.SizerDataError, match=r"nowhere\.npz: no such file"):
        sizer_npz.load_sizer_npz(str(tmp_path / "nowhere.npz"))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(sizer_npz.SizerDataError, match=r"junk\.npz: not a readable"):
        sizer_npz.load_sizer_npz(str(junk))


def test_parser_npz_reader(files, tmp_path):
    data = sizer_npz.load_parser_npz(files["parser"])
    raw = np.load(files["parser"])
    vi = files["template"]["vert_indices"]
    assert data["reg"].shape == (3, len(files["template"]["v_template"]), 3)
    np.testing.assert_array_equal(data["UpperClothes"], raw["UpperClothes"])
    np.testing.assert_array_equal(data["reg"][:, vi], data["UpperClothes"])  # the garment over the skin
    bad = dict(raw, reg=raw["reg"].copy())
    bad["reg"][1, 5, 0] = np.inf
    path = str(tmp_path / "bad_parser.npz")
    np.savez(path, **bad)
    assert sizer_npz.load_parser_npz(path)["reg"].shape[0] == 2
    with pytest.raises(sizer_npz.SizerDataError, match=r"parser_train\.npz: missing key 'Pants'"):
        sizer_npz.load_parser_npz(files["parser"], layer="Pants")

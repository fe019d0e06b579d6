"""tools/make_sizer: the authors' file names and layouts (read back by official/data/sizer_npz.py and the
`sizer` Task), held-out subjects, a kept complete set, and one-line errors naming the file for a wrong
body model, garment mesh or garment size."""

from __future__ import annotations

import numpy as np
import pytest

from official.core import config as config_lib
from official.core.errors import UserError
from official.core.task import build_task
from official.data import sizer_npz
from tools.make_sizer import write_sizer


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    assert write_sizer(str(root / "sizer_synthetic"), subjects=1, val_subjects=1, seed=3) == {"train": 1, "val": 1}
    return root


def test_files_in_the_code_layout_and_kept(root):
    out = root / "sizer_synthetic"
    for name in ("g5_size.npz", "g5_size_val.npz", "parser_train.npz", "body_model.npz", "g5/UpperClothes_lres.obj",
                 "g5/UpperClothes_lres_id.npy", "g5/UpperClothes_lres_8_gar_order.npy", ".complete"):
        assert (out / name).is_file(), name
    train, val = (sizer_npz.load_sizer_npz(str(out / f)) for f in ("g5_size.npz", "g5_size_val.npz"))
    assert train["pose_upper0"].shape == val["pose_upper0"].shape == (1, 192, 3)
    assert not np.allclose(train["betas0"], val["betas0"])  # other subjects
    sizes = [int(train[f"size{k}"][0]) for k in range(3)]
    assert len(set(sizes)) == 3 and all(0 <= s < 4 for s in sizes)  # 3 distinct sizes per subject
    assert write_sizer(str(out), subjects=1, val_subjects=1, seed=3) == {}  # a complete set is kept
    with pytest.raises(ValueError, match="--subjects must be >= 1"):
        write_sizer(str(root / "other"), subjects=0)


def test_task_errors_name_the_file(root):
    def task(overrides=""):
        cfg = config_lib.resolve("sizernet_tiny_synthetic", params_override=overrides, data_dir=str(root))
        return build_task(cfg)

    assert task().num_examples(task().config.train_data) == 9
    with pytest.raises(UserError, match=r"nowhere\.npz: no such body-model file"):
        task("train_data.body_model=nowhere.npz").build_model()
    with pytest.raises(UserError, match=r"g5_size\.npz: key 'pose_upper0' has 192 vertices, model.num_vertices is 64"):
        t = task("model.num_vertices=64")
        t.pairs(t.config.train_data)
    with pytest.raises(UserError, match=r"body_model\.npz: key 'vert_indices' has shape \(192,\)"):
        task("model.num_vertices=64").build_model()
    with pytest.raises(UserError, match=r"UpperClothes_lres\.obj: 192 vertices, the model's garment has 64"):
        task("model.num_vertices=64").mesh()

"""The `mask2cad` Task's input pipeline and scoring, without training: a Pix3D release of 48 px images
(tools.make_pix3d_primitives) fed at 64 px, so every image is rescaled.
- targets vs independent recomputation: the scaled K projects the GT translation onto the centre that
  the box and its offset target decode to; bin + residual rebuild the GT rotation (scipy); model ids
  follow the OBJ paths; eval depth is t_z;
- `score` of perfect predictions gives 1 everywhere; predictions with the wrong CAD model or a pose
  turned by 90 deg lose AP^mesh and retrieval / rotation accuracy accordingly."""

import numpy as np
from scipy.spatial.transform import Rotation

from official.core import config as config_lib
from official.core.task import build_task
from research.three_d.mask2cad import rotation_bins
from tools import make_pix3d_primitives


def _task(tmp_path):
    data = str(tmp_path / "pix3d")
    make_pix3d_primitives.write_pix3d_primitives(data, train=10, test=6, size=48, seed=1)
    overrides = (f"train_data.path={data}/pix3d.json,eval_data.path={data}/pix3d.json,"
                 f"train_data.split_file={data}/pix3d_s1_train.json,eval_data.split_file={data}/pix3d_s1_test.json,"
                 "task.views_per_model=2,task.mesh_samples=400")
    cfg = config_lib.resolve("mask2cad_small_pix3d", params_override=overrides)
    cfg.model = config_lib.model_config("mask2cad_tiny")
    return build_task(cfg)


def test_targets_and_scoring(tmp_path):
    task = _task(tmp_path)
    train = task.records(task.config.train_data)
    assert len(train["class"]) == 10 and task.num_examples(task.config.eval_data) == 6
    x, y = next(iter(task.build_inputs(task.config.train_data, False, 10)))  # eval layout: K and depth
    x, y = {k: np.asarray(v) for k, v in x.items()}, {k: np.asarray(v) for k, v in y.items()}
    order = y["index"]
    t = train["translation"][order]
    uvw = np.einsum("nij,nj->ni", x["intrinsics"], t)
    box = x["boxes"][:, 0]
    centre = (box[:, :2] + box[:, 2:]) / 2 + y["centre_offset"][:, 0] * (box[:, 2:] - box[:, :2])
    np.testing.assert_allclose(uvw[:, :2] / uvw[:, 2:], centre, atol=1e-3)
    np.testing.assert_allclose(box, train["box"][order] * 64 / 48, atol=1e-4)
    np.testing.assert_allclose(x["depth"], t[:, 2], atol=1e-6)
    q = rotation_bins.decode_rotation(y["rotation_bin"][:, 0], y["rotation_delta"][:, 0], train["class"][order],
                                      task.bins())
    want = Rotation.from_matrix(train["rotation"][order])
    assert np.degrees((Rotation.from_quat(q, scalar_first=True) * want.inv()).magnitude()).max() < 1e-3
    models = list(task._release(task.config.train_data.path)[1])  # sorted OBJ paths = model ids
    np.testing.assert_array_equal(y["model_id"][:, 0], train["model_id"][order])
    assert [models[i].split("/")[1] for i in y["model_id"][:, 0]] == [("chair", "desk")[c] for c in train["class"][order]]

    truth = [{"quaternion": train["quaternion"][i], "translation": train["translation"][i],
              "model_id": int(train["model_id"][i]), "class": int(train["class"][i]), "box": train["box"][i]}
             for i in range(10)]

    def predict(model_ids, quats):
        dets = [{"boxes": g["box"][None], "scores": np.array([0.9]), "classes": np.array([g["class"]]),
                 "valid": np.array([True]), "model_id": np.array([m]), "quaternion": q[None],
                 "translation": g["translation"][None]} for g, m, q in zip(truth, model_ids, quats, strict=True)]
        boxes = [{"model_id": m, "quaternion": q, "translation": g["translation"]}
                 for g, m, q in zip(truth, model_ids, quats, strict=True)]
        return task.score(dets, boxes, truth)

    gt_ids, gt_q = [g["model_id"] for g in truth], [g["quaternion"] for g in truth]
    perfect = predict(gt_ids, gt_q)
    assert perfect["retrieval_top1"] == 1 and perfect["rotation_accuracy"] == 1 and perfect["ap_box50"] == 1
    assert perfect["ap_mesh"] == 1 and perfect["median_rotation_error_deg"] < 1e-3, perfect
    other = [i ^ 1 for i in gt_ids]  # the other model of the same category
    turned = [(Rotation.from_quat(q, scalar_first=True) * Rotation.from_euler("y", 90, degrees=True)).as_quat(
        scalar_first=True) for q in gt_q]
    wrong_model, wrong_pose = predict(other, gt_q), predict(gt_ids, turned)
    assert wrong_model["retrieval_top1"] == 0 and wrong_model["ap_mesh"] < perfect["ap_mesh"]
    assert wrong_pose["rotation_accuracy"] == 0 and abs(wrong_pose["median_rotation_error_deg"] - 90) < 1e-3
    assert wrong_pose["ap_mesh"] < 0.5 and wrong_pose["ap_box50"] == 1, wrong_pose

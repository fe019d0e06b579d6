"""HMOR's integrated network: parameter counts, the forward pass's geometry (crops, k, lifting), the
detector path, the objective's terms, config and checkpoint round trips."""

import keras
import numpy as np
import pytest

from official.core import model_table, registry
from official.ops import camera
from research.three_d.hmor import ordinal
from tests import helpers

# Counted by this code (there is no official model to count; spec card: none given): `python -m tools.list
# --pattern='hmor*'` prints the same numbers.
PARAMS = {"hmor_tiny": 153_951, "hmor_resnet50": 29_559_687}


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    model = registry.create_model("hmor_tiny")
    helpers.randomise_weights(model, 1)
    # root depth at its initial gamma = 1 (random gammas give depths of 1e5-1e6 mm: the ordinal terms vanish)
    model.depth_out.set_weights([np.zeros_like(w) for w in model.depth_out.get_weights()[:1]] + [np.ones(1, np.float32)])
    model.refine.set_weights([np.zeros_like(w) for w in model.refine.get_weights()])
    return model


def inputs(batch=2):
    rng = np.random.default_rng(0)
    x = {"images": rng.uniform(0, 255, (batch, 64, 64, 3)).astype(np.float32),
         "focal": np.array([[190.0, 185.0]] * batch, np.float32), "center": np.array([[31.0, 33.0]] * batch, np.float32),
         "boxes": np.array([[[10, 9, 30, 49], [34, 4, 60, 62], [0, 0, 0, 0], [0, 0, 0, 0]]] * batch, np.float32)}
    return x


def test_parameter_counts():
    with model_table.shape_only():
        big = registry.create_model("hmor_resnet50")
        assert helpers.trainable_count(big) == PARAMS["hmor_resnet50"]
        assert big.num_joints == 21 and big.root_joint == 14 and big.heatmap_size == 64 and big.stride == 16
    fresh = registry.create_model("hmor_tiny")
    assert helpers.trainable_count(fresh) == PARAMS["hmor_tiny"]
    out = fresh(inputs(1))
    np.testing.assert_allclose(np.asarray(out["root_depth"]), np.asarray(out["root_depth_coarse"]), rtol=1e-6)  # refine starts at 0


def test_forward_geometry_with_ground_truth_boxes(tiny):
    x = inputs()
    out = {k: np.asarray(v) for k, v in tiny(x).items()}
    crops = out["crops"][0, :2]
    np.testing.assert_allclose(crops[0], [20 - 25, 29 - 25, 20 + 25, 29 + 25])  # side = 40 * 1.25
    k = np.sqrt(190.0 * 185.0 * 2000.0**2 / (50.0 * 50.0))
    np.testing.assert_allclose(out["k"][0, 0], k, rtol=1e-5)
    # lifted joints: their projection is the predicted 2D pose, their depth root + z_rel
    proj = np.asarray(camera.project(out["joints_cam"], x["focal"][:, None, None], x["center"][:, None, None]))
    np.testing.assert_allclose(proj[:, :2], out["joints_img"][:, :2], atol=1e-3)
    np.testing.assert_allclose(out["joints_cam"][..., 2], out["root_depth"][..., None] + out["z_rel"], rtol=1e-5)
    uv = out["joints_img"][0, 0]
    assert np.all(uv >= crops[0, :2] - 1e-3) and np.all(uv <= crops[0, 2:] + 1e-3)
    # the detector path: padded, fixed-size detections
    det = {k: np.asarray(v) for k, v in tiny({k: x[k] for k in ("images", "focal", "center")}).items()}
    assert det["boxes"].shape == (2, 4, 4) and det["joints_cam"].shape == (2, 4, 21, 3)
    assert det["valid"].dtype == bool and np.all(det["scores"][~det["valid"]] == 0)


def test_objective_terms(tiny):
    x = inputs()
    cam = np.zeros((2, 4, 21, 3), np.float32)
    rng = np.random.default_rng(1)
    cam[:, :2] = rng.normal(0, 200, (2, 2, 21, 3))
    cam[:, 0, :, 2] += 3000.0
    cam[:, 1, :, 2] += 6000.0
    img = np.where(cam[..., 2:] > 0, cam[..., :2] / np.maximum(cam[..., 2:], 1) * 190 + 32, 0).astype(np.float32)
    y = {"boxes": x["boxes"], "keypoints_cam": cam, "keypoints_img": img, "keypoints_vis": np.ones((2, 4, 21), np.float32),
         "person_mask": np.array([[1, 1, 0, 0]] * 2, np.float32)}
    from research.three_d.hmor import losses

    total, terms = losses.hmor_loss(tiny, tiny(x, training=False), y, x)
    terms = {k: float(v) for k, v in terms.items()}
    assert np.isfinite(float(total)) and all(np.isfinite(list(terms.values())))
    assert terms["det_cls"] > 0 and terms["pose"] > 0 and terms["root"] > 0 and terms["ordinal"] > 1e-3, terms
    w = tiny.loss_config["ordinal"]
    np.testing.assert_allclose(terms["ordinal"], w[0] * terms["ordinal_instance"] + w[1] * terms["ordinal_part"]
                               + w[2] * terms["ordinal_joint"], rtol=1e-5)
    expected = (terms["det_cls"] + terms["det_box"] + terms["pose"] + terms["root"] + terms["root_coarse"]
                + terms["ordinal"])
    np.testing.assert_allclose(float(total), expected, rtol=1e-5)
    assert tiny.parts == ordinal.parts_for("muco_21")


def test_config_and_checkpoint_round_trip(tiny):
    x = {k: v for k, v in inputs(1).items()}
    assert not helpers.checkpoint_misses(tiny)
    clone = tiny.__class__.from_config(helpers.json_config(tiny))
    clone.set_weights(tiny.get_weights())
    a, b = tiny(x), clone(x)
    for key in ("joints_cam", "root_depth", "objectness"):
        np.testing.assert_allclose(np.asarray(b[key]), np.asarray(a[key]), atol=1e-4)

"""Spec card check 6, shortened (the full overfit figure is in the model card), and one XLA train step."""

import keras
import numpy as np

from official.core import registry
from official.core.task import build_task
from research.three_d.hmor.task import compile_hmor
from tests.research.three_d.hmor.hmor_fixtures import experiment

STEPS = 120


def test_check6_short_overfit_learns_poses_and_the_depth_order(humans_dir):
    """120 Adam steps on the 8 fixture images: root-relative MPJPE on ground-truth boxes falls below 260 mm
    (untrained ~360 mm) and every pair of people is put in the right depth order (untrained: chance)."""
    cfg = experiment(humans_dir)
    cfg.eval_data.annotations = cfg.train_data.annotations
    task = build_task(cfg)
    x, y = next(iter(task.build_inputs(cfg.train_data, True, 8)))
    keras.utils.set_random_seed(0)
    model = task.build_model()
    compile_hmor(model, keras.optimizers.Adam(3e-3), jit_compile=False)
    first = model.train_on_batch(x, y, return_dict=True)
    for _ in range(STEPS - 1):
        last = model.train_on_batch(x, y, return_dict=True)
    assert last["pose"] < 0.5 * first["pose"] and last["root"] < 0.5 * first["root"]
    metrics = task.evaluate(model, task.build_inputs(cfg.eval_data, False, 8))
    assert metrics["gtbox/depth_order_acc"] == 100.0, metrics
    assert metrics["gtbox/mpjpe_rel"] < 260.0, metrics
    assert metrics["gtbox/root_error_mm"] < 400.0, metrics


def test_xla_train_step_runs_and_descends():
    """Two Adam steps of a small HMOR compiled with jit_compile=True: finite and decreasing loss."""
    keras.utils.set_random_seed(0)
    model = registry.create_model("hmor_tiny", input_shape=(32, 32, 3), deconv_filters=(16,), depth_bins=8,
                                  max_people=2, neck_width=16, head_width=16, resnet_widths=(8, 8, 16, 16))
    rng = np.random.default_rng(0)
    boxes = np.array([[[4, 4, 14, 28], [16, 2, 30, 30]]] * 2, np.float32)
    x = {"images": rng.uniform(0, 255, (2, 32, 32, 3)).astype(np.float32), "focal": np.full((2, 2), 90.0, np.float32),
         "center": np.full((2, 2), 16.0, np.float32), "boxes": boxes}
    cam = rng.normal(0, 200, (2, 2, 21, 3)).astype(np.float32)
    cam[..., 2] += np.array([3000.0, 5000.0], np.float32)[None, :, None]
    y = {"boxes": boxes, "keypoints_cam": cam, "keypoints_img": (cam[..., :2] / cam[..., 2:] * 90 + 16).astype(np.float32),
         "keypoints_vis": np.ones((2, 2, 21), np.float32), "person_mask": np.ones((2, 2), np.float32)}
    compile_hmor(model, keras.optimizers.Adam(1e-3), jit_compile=True)
    a = model.train_on_batch(x, y, return_dict=True)
    b = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite([a["loss"], b["loss"]]).all() and b["loss"] < a["loss"]
    assert a["ordinal_instance"] > 0

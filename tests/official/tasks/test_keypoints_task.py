"""The keypoint Task on the stick-figure set (tools.make_poses, COCO person_keypoints format): batches the
model and loss take, an oracle's heatmaps scoring COCO keypoint AP ~1 through decoding and the inverse
crop, the serving graph's in-graph crops agreeing with the reader's, and RSN's linear schedule."""

from __future__ import annotations

import os

import numpy as np
import pytest

from official.core import config as config_lib
from official.core.task import build_task


@pytest.fixture(scope="module")
def poses(tmp_path_factory) -> str:
    from tools.make_poses import write_poses

    root = tmp_path_factory.mktemp("data")
    write_poses(str(root / "poses"), 8, 6, size=128, seed=3, max_persons=2)
    return str(root)


@pytest.fixture(scope="module")
def task(poses):
    cfg = config_lib.resolve("rsn_tiny_poses", [], "trainer.global_batch_size=4,eval_data.cache=false", poses)
    return build_task(cfg)


def test_training_batches_fit_model_and_loss(task):
    cfg = task.config
    images, y = next(iter(task.build_inputs(cfg.train_data, True, 4)))
    assert images.shape == (4, 128, 96, 3)
    assert y["targets"].shape == (4, 5, 32, 24, 17) and y["valid"].shape == (4, 17)
    peaks = np.asarray(y["targets"]).max(axis=(2, 3))  # (B, kernels, K): 255 where a keypoint is drawn
    visible = np.asarray(y["valid"]) > 0
    np.testing.assert_allclose(peaks[:, -1][visible], 255.0, rtol=1e-5)
    model = task.build_model()
    loss = model.compute_loss(images, y, model(images, training=True))
    assert np.isfinite(float(loss)) and float(loss) > 0


def _oracle(task):
    """predict_fn returning each eval crop's own finest-kernel target heatmaps (in eval order)."""
    from official.data import keypoint_input

    cfg = task.config

    spec, augment = task._data(cfg.eval_data)
    truth = keypoint_input.keypoint_dataset(
        task.records(cfg.eval_data, False), False, spec=spec, input_size=tuple(cfg.eval_data.input_size),
        kernels=tuple(cfg.eval_data.kernels), augment=augment, with_targets=True,
    ).batch(4)
    maps = iter([np.asarray(x["heatmaps"])[:, -1] for x in truth])
    return lambda images: next(maps)


def test_oracle_heatmaps_score_near_perfect_coco_ap(task, tmp_path):
    """Decoding (smoothing, quarter-pixel shift, inverse crop) and the evaluator put a perfect
    heatmap back on the annotated keypoints: COCO keypoint AP 1 (flip test off: the oracle
    only knows the unflipped crop)."""
    task.config.task.flip_test = False
    try:
        out = str(tmp_path / "pred.json")
        metrics = task.evaluate_predict_fn(_oracle(task), task.build_inputs(task.config.eval_data, False, 4),
                                           predictions_out=out)
    finally:
        task.config.task.flip_test = True
    # measured: AP 1.0; a 1 px shift of the crop centre gives 0.988, 2 px 0.923 (AP50 stays 1.0)
    assert metrics["AP"] > 0.995, metrics
    assert os.path.getsize(out) > 100


def test_serving_image_crops_like_the_reader(task):
    """serving_image (encoded image + person boxes, cropped in the graph) gives the keypoints that the
    reader's crops give through the same model and decoder; padded box rows come back as zeros."""
    import tensorflow as tf

    model = task.build_model()
    encoded, boxes = task._image_requests(2)
    boxes = np.concatenate([boxes, np.zeros((len(boxes), 1, 4), np.float32)], 1)  # one padding row
    out = task.serving_signatures(model, 128)["serving_image"][0](tf.constant(encoded), tf.constant(boxes))
    records = task.records(task.config.eval_data, False)
    eval_batch = next(iter(task.build_inputs(task.config.eval_data, False, 64)))
    heat = model(eval_batch["image"], training=False)["heatmaps"]
    flipped = model(eval_batch["image"][:, :, ::-1], training=False)["heatmaps"]
    want, _ = task._decoder()(heat, flipped, eval_batch["center"], eval_batch["scale"])
    want = np.asarray(want)
    paths = list(dict.fromkeys(records.image_paths))[: len(encoded)]
    got = np.asarray(out["keypoints"])
    for i, path in enumerate(paths):
        rows = [j for j, p in enumerate(records.image_paths) if p == path]
        for n, j in enumerate(rows):
            np.testing.assert_allclose(got[i, n], want[j], atol=0.05, err_msg=f"{path} person {n}")
        assert not np.any(got[i, len(rows):])


def test_keypoint_int8_agreement_measure(task):
    ref = np.zeros((2, 8, 6, 3), np.float32)
    ref[:, 4, 3, :] = 1.0
    near, far = ref.copy(), np.zeros_like(ref)
    near[:, 4, 3, :], near[:, 5, 4, :] = 0.0, 1.0  # one cell diagonally: agrees
    far[:, 0, 0, :] = 1.0
    assert task.quantized_agreement(ref, near) == 1.0 and task.quantized_agreement(ref, far) == 0.0


def test_linear_schedule_is_rsn_lambda():
    """lib/utils/solver.py: warm-up from 0.1x over w iterations, then 1 - (it - w) / (max - w)."""
    from official.core.optimization import build_schedule

    cfg = config_lib.resolve("rsn_18_coco")
    plan = build_schedule(cfg.trainer.lr_schedule, cfg.trainer.steps_per_epoch, cfg.trainer.train_steps, lr_scale=8.0)
    base, w, total = 5e-4 * 8, 2400, 96_000
    for it in (0, 1200, 2399, 2400, 50_000, 95_999):
        factor = 0.1 + 0.9 * it / w if it < w else 1 - (it - w) / (total - w)
        assert float(plan(it)) == pytest.approx(base * factor, rel=2e-3, abs=1e-9), it

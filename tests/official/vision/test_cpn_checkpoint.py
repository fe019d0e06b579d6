"""A TF checkpoint of a CPN restores every weight into a freshly built model (stage-2 classifiers
included), as `trainer.restore_for_inference` / `tools.evaluate --model_dir` need."""

import numpy as np
import tensorflow as tf

from official.core import config as config_lib
from official.core.task import build_task


def test_every_weight_restores(tmp_path):
    cfg = config_lib.resolve("cpn_dla34tiny_shapes", [], "")
    task = build_task(cfg)
    saved = task.build_model()
    for i, w in enumerate(saved.weights):  # distinct values, so a weight left at its init is caught
        w.assign(np.full(w.shape, 0.01 * (i + 1), "float32"))
    path = tf.train.Checkpoint(model=saved).write(str(tmp_path / "ckpt"))
    fresh = task.build_model()
    tf.train.Checkpoint(model=fresh).restore(path).expect_partial()
    missed = [w.path for w, v in zip(fresh.weights, saved.weights, strict=True) if not np.array_equal(w.numpy(), v.numpy())]
    assert not missed, missed
    assert any("grouping_cls" in w.path for w in fresh.weights) and any("region_cls" in w.path for w in fresh.weights)

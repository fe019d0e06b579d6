"""SoftPoolNet short schedule through the point_completion task, one XLA-compiled train step per fit step
(METHOD_CONTRACT items 5 and 9): a narrow network on Completion3D-layout primitives written by
tools.make_shapes3d learns to complete them - its fine cloud ends at under 0.3 x the Chamfer distance of
the partial input itself (the copy-the-input baseline a network that cannot complete stays near)."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from official.core.registry import create_model
from official.losses.chamfer import chamfer_distance
from official.tasks.point_completion import PointCompletionTask
from research.three_d.softpoolnet.experiments import softpoolnet_small_shapes
from tools.make_shapes3d import write_shapes3d

TINY = dict(num_points=128, point_widths=(16,), dim_pn=16, ranks=8, global_widths=(32, 64), global_dim=32,
            grid=(2, 2), grid_scale=0.05, fold_widths=(64,), alpha_boundaries=(20,), alpha_values=(0.1, 1.0))


def test_short_schedule_beats_copying_the_partial(tmp_path):
    root = str(tmp_path / "c3d")
    write_shapes3d("completion3d", root, per_class=2, test_per_class=1, classes=("sphere", "box"))
    cfg = softpoolnet_small_shapes()
    data = dataclasses.replace(cfg.train_data, path=root, num_partial=128, num_complete=512)
    cfg.train_data, cfg.eval_data = data, dataclasses.replace(data, split="train")
    task = PointCompletionTask(cfg)
    keras.utils.set_random_seed(0)
    model = create_model("softpoolnet_completion3d", **TINY)
    task.compile_model(model, keras.optimizers.Adam(3e-3), jit_compile=True)
    model.fit(task.build_inputs(cfg.train_data, True, 4), steps_per_epoch=150, epochs=1, verbose=0)
    partial, complete = next(iter(task.build_inputs(cfg.eval_data, False, 4)))
    fine = model(partial, training=False)["fine"]
    trained = float(np.mean(chamfer_distance(fine, complete)))
    copy = float(np.mean(chamfer_distance(partial, complete)))
    assert trained < 0.3 * copy, (trained, copy)  # measured 0.0056 vs 0.0538 (0.10)

"""ShapeGF short run (METHOD_CONTRACT item 5; card check 7 shortened): tools.train's run_experiment on a
tools.make_shapes3d pc15k set (ellipsoids in airplane's synset folder) trains the tiny network for 600
steps with the shapegf_ae method; the learned field must denoise the training clouds at the two largest
sigmas: one step x~ + s(x~, [z, sigma]) has under 0.9 of the Chamfer distance of x~ to the clean cloud (a
zero field gives 1, a wrong sign or wiring more). The small sigmas and sampling whole clouds need the
longer small run (the card)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from official.core.trainer import run_experiment
from research.three_d.shapegf.experiments import shapegf_tiny_shapes_ae
from tools.make_shapes3d import write_shapes3d


def _chamfer(a, b):
    d = ((a[:, :, None] - b[:, None]) ** 2).sum(-1)
    return d.min(2).mean(1) + d.min(1).mean(1)


@pytest.fixture(scope="module")
def pc15k_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("pc15k") / "shapes_pc15k")
    write_shapes3d("pc15k", out, per_class=8, test_per_class=1, classes=("sphere",), seed=0)
    return out


def test_short_schedule_learns_a_denoising_field(pc15k_dir, tmp_path):
    cfg = shapegf_tiny_shapes_ae()
    cfg.train_data = dataclasses.replace(cfg.train_data, path=pc15k_dir, tr_points=128, te_points=128)
    cfg.eval_data = dataclasses.replace(cfg.eval_data, path=pc15k_dir, split="train", tr_points=128, te_points=128)
    cfg.trainer.epochs = cfg.trainer.steps_per_loop = 600  # 8 shapes, batch 8: one step per epoch
    cfg.trainer.lr_schedule.warmup_epochs, cfg.trainer.lr_schedule.cooldown_epochs = 300.0, 30.0
    results, model = run_experiment(cfg, str(tmp_path / "run"), mode="train", return_model=True)
    assert results["step"] == 600, results
    net = model.inference_model
    x = next(iter(model_inputs(cfg)))[0]["points"].numpy()
    z = net.encoder(x, training=False)
    ratios = []
    for sigma in net.sigmas:
        noisy = x + float(sigma) * np.random.default_rng(0).normal(size=x.shape).astype("float32")
        denoised = noisy + np.asarray(net.field(noisy, z, float(sigma)))
        ratios.append(float(np.mean(_chamfer(denoised, x)) / np.mean(_chamfer(noisy, x))))
    print("denoising CD ratios per sigma", [round(r, 3) for r in ratios])
    assert max(ratios[:BAR_LEVELS]) < BAR, ratios


def model_inputs(cfg):
    from research.three_d.shapegf.task import ShapeGFTask

    return ShapeGFTask(cfg).build_inputs(cfg.eval_data, False, 8)


BAR = 0.9  # measured 0.750 / 0.822 at sigma 1 / 0.457 after 600 steps (seeded); a zero field gives 1.0
BAR_LEVELS = 2  # the small sigmas need the longer schedule (0.972, 1.56, 4.5, 18.7 here)

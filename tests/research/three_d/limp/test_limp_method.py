"""The `limp` training method's loss terms (research/three_d/limp/method.py) against a term-by-term reference
built from the network's halves, numpy distances and the heat geodesics: which reconstruction is scored against
which input shape, which pair feeds which term, which latent block is mixed, which end metric is the target, and
train_FAUST.py's total (all stages active)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy.spatial.distance import cdist

import research.three_d.limp  # noqa: F401  (registers the variants also before zoo_index lists the package)
from official.core import registry
from official.ops.heat_geodesics import heat_geodesics
from research.three_d.limp.config import LimpTrainingConfig
from research.three_d.limp.method import LimpVaeTrainer
from research.three_d.limp.synthetic import fixture_shapes
from tests import helpers


def _rel(target_de, x):
    return ((target_de - cdist(x, x)) / (target_de + 1e-3)) ** 2


def test_step_terms_match_a_term_by_term_reference():
    shapes, faces, _ = fixture_shapes(subjects=2, poses=2, rings=3, around=4)  # 14 vertices, ids 0 0 1 1
    shapes = shapes.astype(np.float32)
    dg = np.stack([np.asarray(heat_geodesics(s.astype(np.float64), faces)) for s in shapes]).astype(np.float32)
    keras.utils.set_random_seed(0)
    net = registry.create_model("limp_tiny", num_points=14)
    helpers.randomise_weights(net, 3)
    latent = net.encoder.get_layer("latent")  # logvar bias -40: sigma ~ 2e-9, so the sampled z is mu to float32
    kernel, bias = latent.get_weights()
    latent.set_weights([kernel, np.concatenate([bias[: bias.size // 2], np.full(bias.size // 2, -40.0, np.float32)])])
    cfg = LimpTrainingConfig(kl_weight=0.5, steps_per_iteration=1, stage_starts=(-3, -2, -1), heat_t=0.0)
    trainer = LimpVaeTrainer(net, faces, shapes, dg, cfg)
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3))  # iteration 0 > all starts: stage 4 weights
    # the batch holds both subjects, so a reconstruction scored against another input's shape shows
    inputs = {"points": shapes[[0, 3, 1, 2]], "interp_pair": np.array([[0, 3]], np.int32),
              "intra_pair": np.array([[2, 3]], np.int32), "inter_pair": np.array([[1, 2]], np.int32),
              "alphas": np.array([[0.3, 0.6, 0.8]], np.float32)}
    got = {k: float(v) for k, v in trainer.step_losses(inputs).items()}

    mu = np.asarray(net.encoder(shapes, training=False)[0])
    p = net.pose_size

    def decode(z):
        return np.asarray(net.decoder(z[None], training=False))[0]

    a = 0.3  # interpolation: all dims, targets mixed a * A + (1 - a) * B
    x_t = decode(a * mu[0] + (1 - a) * mu[3])
    dg_t, de_t = a * dg[0] + (1 - a) * dg[3], a * cdist(shapes[0], shapes[0]) + (1 - a) * cdist(shapes[3], shapes[3])
    local = _rel(de_t, x_t)[dg_t < 0.1 * dg_t.max()].mean()
    geo_t = np.mean((dg_t - np.asarray(heat_geodesics(x_t.astype(np.float64), faces))) ** 2)
    assert got["interp"] == pytest.approx(100 * local + 1e-3 * geo_t, rel=2e-4)

    style = np.concatenate([mu[2, :p], 0.6 * mu[2, p:] + 0.4 * mu[3, p:]])  # intra: style mixed, pose of A
    assert got["intra"] == pytest.approx(1.0 * _rel(cdist(shapes[2], shapes[2]), decode(style)).mean(), rel=2e-4)

    pose = np.concatenate([0.8 * mu[1, :p] + 0.2 * mu[2, :p], mu[1, p:]])  # inter: pose mixed, style of A
    geo_a = np.mean((dg[1] - np.asarray(heat_geodesics(decode(pose).astype(np.float64), faces))) ** 2)
    assert got["inter"] == pytest.approx(1.0 * geo_a, rel=2e-4)
    assert got["loss"] == pytest.approx(got["rec"] + 0.1 * got["interp"] + 10 * (got["intra"] + got["inter"]), rel=1e-5)
    assert got["rec"] > 0.5 * got["kl"] > 0

    # reconstruction: each input against its own decoded code (BN in training mode, as the step runs it)
    points = inputs["points"]
    mu_b, logvar_b = (np.asarray(t, np.float64) for t in net.encoder(points, training=True))
    rec = np.asarray(net.decoder(mu_b.astype(np.float32), training=False), np.float64)
    metric = np.mean([np.mean((cdist(x, x) ** 2 - cdist(r, r) ** 2) ** 2) for x, r in zip(points, rec, strict=True)])
    kl = 0.5 * np.mean(np.exp(logvar_b) + mu_b**2 - 1.0 - logvar_b)
    assert got["kl"] == pytest.approx(kl, rel=1e-5)
    assert got["rec"] == pytest.approx(metric + 0.5 * kl, rel=1e-4)
    crossed = np.mean([np.mean((cdist(x, x) ** 2 - cdist(r, r) ** 2) ** 2) for x, r in zip(points, rec[::-1], strict=True)])
    assert abs(crossed - metric) > 1e-3 * (got["rec"] - 0.5 * got["kl"]), "the reference cannot tell a reversed batch"

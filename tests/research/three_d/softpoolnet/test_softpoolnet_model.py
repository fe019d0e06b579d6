"""SoftPoolNet networks: exact trainable counts of the registered variants (README "Parameter count"),
card check 3 (shapes), the completion objective (alpha ramp, zero at the ground truth), config round trip."""

from __future__ import annotations

import keras
import numpy as np

from official.core import registry
from research.three_d.softpoolnet.layers import SoftPool
from research.three_d.softpoolnet.model import SoftPoolNetCompletion
from tests.helpers import check_config_round_trip, randomise_weights

# Sum of the parts (README): softpool MLP 17,344 + regional convs 2,349,120 (PCN, 16 ranks: 1,300,544)
# + PointNet branch 406,016 + 64 generators x 168,323 = 10,772,672 + patch deforming 398,339.
COUNTS = {"softpoolnet_completion3d": 13_943_491, "softpoolnet_pcn": 12_894_915, "softpoolnet_classifier": 1_357_096}
TINY = dict(num_points=64, point_widths=(8,), dim_pn=8, ranks=4, global_widths=(8, 16), global_dim=8,
            grid=(2, 2), fold_widths=(16,))


def test_variant_counts_and_output_shapes():  # card check 3 (decoder sizes)
    shapes = {}
    for name, count in COUNTS.items():
        keras.backend.clear_session()
        model = registry.create_model(name)
        assert model.trainable_parameter_count == count, (name, model.trainable_parameter_count)
        out = model.output
        shapes[name] = {k: tuple(v.shape) for k, v in out.items()} if isinstance(out, dict) else tuple(out.shape)
    assert shapes["softpoolnet_completion3d"] == {"coarse": (None, 2048, 3), "fine": (None, 2048, 3),
                                                  "region_logits": (None, 2048, 64)}
    assert shapes["softpoolnet_pcn"] == {"coarse": (None, 1024, 3), "fine": (None, 16384, 3),
                                         "region_logits": (None, 1024, 64)}
    assert shapes["softpoolnet_classifier"] == (None, 40)


def test_soft_pooled_tensor_shape_at_paper_size():  # card check 3 (F*)
    rng = np.random.default_rng(0)
    out = SoftPool(32)([rng.normal(size=(2, 2048, 64)).astype("float32"), rng.normal(size=(2, 2048, 3)).astype("float32")])
    assert tuple(out.shape) == (2, 64, 32, 67)


def test_objective_ramp_and_ground_truth_zero(tmp_path):
    keras.utils.set_random_seed(0)
    model = SoftPoolNetCompletion(**TINY, alpha_boundaries=(10, 20), alpha_values=(0.01, 0.5, 1.0))
    np.testing.assert_allclose([float(model.coarse_weight(s)) for s in (0, 9, 10, 19, 20, 10**6)],
                               [0.01, 0.01, 0.5, 0.5, 1.0, 1.0], rtol=1e-6)
    randomise_weights(model, 0)
    x = np.random.default_rng(1).normal(size=(2, 64, 3)).astype("float32")
    pred = model(x, training=False)
    assert tuple(pred["coarse"].shape) == (2, 32, 3) and tuple(pred["fine"].shape) == (2, 128, 3)
    # fine points are their coarse centre + an offset: with the offset MLP's last conv zeroed, each 2x2 patch
    # collapses onto its coarse point
    last = model.get_layer("fold_conv2")
    saved = last.get_weights()
    last.set_weights([np.zeros_like(w) for w in saved])
    np.testing.assert_allclose(model(x, training=False)["fine"], np.repeat(pred["coarse"], 4, axis=1), atol=1e-6)
    last.set_weights(saved)
    terms = model.loss_terms(pred["fine"], pred, step=0)
    assert float(terms["fine"]) == 0.0 and float(terms["coarse"]) > 0.0
    uniform = {**pred, "region_logits": np.zeros_like(pred["region_logits"])}
    t0 = model.loss_terms(pred["fine"], uniform, step=10**6)
    assert float(t0["entropy"]) < 1e-6
    np.testing.assert_allclose(float(t0["total"]), float(t0["coarse"]), rtol=1e-6)  # alpha = 1, fine = 0
    check_config_round_trip(model, x)

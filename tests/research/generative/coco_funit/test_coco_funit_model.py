"""COCO-FUNIT networks, spec-card checks 1-4: parameter counts of the official configs, the shape list at
256 px (symbolic: the base64 networks are built, not run), the content conditioning (z_c forced to ones
reduces the code to FUNIT-with-bias; a flipped style image changes z_s but not z_c), and the projection
discriminator's label term."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import research.generative.coco_funit  # noqa: F401  (registration)
from official.core import registry
from tests import helpers


def _relu(x):
    return np.maximum(x, 0.0)


def _dense(layer, x):
    kernel, bias = (np.asarray(w) for w in layer.weights)
    return x @ kernel + bias


@pytest.fixture(scope="module")
def base64():
    keras.backend.clear_session()
    return registry.create_model("coco_funit_base64")


def test_generator_count_and_card_shapes(base64):
    assert base64.count_params() == 121_562_307
    counts = {p: sum(int(np.prod(w.shape)) for layer in base64.layers if layer.name.startswith(p) for w in layer.trainable_weights)
              for p in ("content", "style", "dec", "mlp_content", "mlp_style", "mlp_fc", "usb")}
    assert counts == {"content": 48_917_504, "style": 3_828_160, "dec": 68_159_107, "mlp_content": 278_848,
                      "mlp_style": 295_232, "mlp_fc": 82_432, "usb": 1_024}
    parts = base64.parts()
    shapes = {k: tuple(v.shape) for k, v in parts.output.items()}
    assert shapes == {"content": (None, 16, 16, 1024), "style": (None, 64), "z_c": (None, 64), "z_s": (None, 64),
                      "w": (None, 256), "image": (None, 256, 256, 3)}


@pytest.mark.parametrize("classes,count", [(149, 92_038_977)])
def test_discriminator_count_and_shapes(classes, count):
    d = registry.create_model(f"coco_funit_discriminator{classes}")
    trainable = sum(int(np.prod(w.shape)) for w in d.trainable_weights)
    assert trainable == count
    # spectral norm's power-iteration vectors are state, not parameters
    assert all("vector_u" in w.path or "kernel" in w.path for w in d.non_trainable_weights), d.non_trainable_weights[:3]
    assert len(d.non_trainable_weights) > 0
    assert tuple(d.output["logits"].shape) == (None, 8, 8, 1) and tuple(d.output["features"].shape) == (None, 1024)


def test_coco_conditioning():
    keras.backend.clear_session()
    g = registry.create_model("coco_funit_tiny")
    helpers.randomise_weights(g, 1)
    rng = np.random.default_rng(0)
    content, style = (rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32") for _ in range(2))
    parts = g.parts()
    out = parts({"content": content, "style": style})
    flipped = parts({"content": content, "style": style[:, :, ::-1]})
    np.testing.assert_allclose(np.asarray(flipped["z_c"]), np.asarray(out["z_c"]), atol=1e-6)
    assert np.abs(np.asarray(flipped["z_s"]) - np.asarray(out["z_s"])).max() > 1e-3
    # z_s = MLP_s([s ; u]) with the constant bias concatenated
    s = np.asarray(out["style"])
    u = np.asarray(g.get_layer("usb").weights[0])
    su = np.concatenate([s, np.repeat(u, len(s), 0)], -1)
    z_s = _relu(_dense(g.get_layer("mlp_style_fc2"), _relu(_dense(g.get_layer("mlp_style_fc1"), su))))
    np.testing.assert_allclose(np.asarray(out["z_s"]), z_s, rtol=1e-4, atol=1e-5)
    # force MLP_c's output to ones: the code reduces to FUNIT-with-bias, w = MLP(z_s)
    fc2 = g.get_layer("mlp_content_fc2")
    fc2.set_weights([np.zeros_like(fc2.weights[0]), np.ones_like(fc2.weights[1])])
    out = parts({"content": content, "style": style})
    np.testing.assert_allclose(np.asarray(out["z_c"]), 1.0)
    w = _relu(_dense(g.get_layer("mlp_fc2"), _relu(_dense(g.get_layer("mlp_fc1"), np.asarray(out["z_s"])))))
    np.testing.assert_allclose(np.asarray(out["w"]), w, rtol=1e-4, atol=1e-5)


def test_projection_term_is_the_label_embedding_difference():
    keras.backend.clear_session()
    d = registry.create_model("coco_funit_discriminator_tiny")
    helpers.randomise_weights(d, 2)
    images = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    a = d({"image": images, "label": np.array([0, 1])})
    b = d({"image": images, "label": np.array([2, 0])})
    e = np.asarray(d.get_layer("embedder").embeddings)
    features = np.asarray(a["features"])
    want = ((e[[0, 1]] - e[[2, 0]]) * features).sum(-1)
    got = np.asarray(a["logits"]) - np.asarray(b["logits"])
    assert got.shape == (2, 8, 8, 1)  # 32 px, 3 stages: two poolings
    np.testing.assert_allclose(got[..., 0], np.broadcast_to(want[:, None, None], (2, 8, 8)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(b["features"]), features, atol=1e-6)  # features ignore the label

"""Registered Mask2CAD variants: trainable parameter counts (the tiny one decomposed into the zoo's CPN
variant + the hand-counted mask head, Mask2CAD heads (heads.expected_parameter_count, the spec card's
layer list) and CAD-view encoder), and an XLA (jit_compile=True) training step of the tiny variant's
Mask2CAD part (RoIAlign on a region map, mask head, heads, view encoder, `head_loss_terms`) that agrees
with the eager step and lowers the loss."""

import keras
import numpy as np
import tensorflow as tf

from official.core import model_table, registry
from official.vision.cpn.variants import VARIANTS
from research.three_d.mask2cad import heads, variants  # noqa: F401  (registration)

COUNTS = {"mask2cad_tiny": 405_905, "mask2cad_small": 757_057, "mask2cad_dla34": 26_572_287,
          "mask2cad_hg104": 219_625_647}


def mask_head_count(cin, width, convs, classes):
    total = 0
    for _ in range(convs):
        total += 9 * cin * width + width
        cin = width
    return total + cin * classes + classes


def view_encoder_count(widths, embed):
    total, cin = 0, 1
    for w in widths:
        total += 9 * cin * w + 2 * w  # conv without bias + BN gamma / beta
        cin = w
    return total + cin * embed + embed


def expected(name):
    args = {arg: default for arg, _, default in registry.builder_parameters(name)}
    cpn = registry.create_model(args["detector"], num_classes=args["num_classes"], input_size=args["input_size"])
    width = int(VARIANTS[args["detector"]].get("region_channels", 64))
    return (cpn.trainable_parameter_count
            + mask_head_count(width, args["mask_width"], args["mask_convs"], args["num_classes"])
            + heads.expected_parameter_count(args["num_classes"], args["num_bins"], width, args["head_width"],
                                             args["embed_dim"])
            + view_encoder_count(args["view_widths"], args["embed_dim"]))


def test_parameter_counts():
    assert set(COUNTS) <= set(registry.list_models("mask2cad_*"))
    with model_table.shape_only():  # weights shaped, never allocated: counts only (dla34 / hg104 in ~2 s)
        for name in COUNTS:
            assert registry.create_model(name).trainable_parameter_count == COUNTS[name], name
        assert COUNTS["mask2cad_tiny"] == expected("mask2cad_tiny")


def test_xla_training_step_of_the_heads():
    keras.utils.set_random_seed(0)
    model = registry.create_model("mask2cad_tiny")
    rng = np.random.default_rng(0)
    model.set_cad_database(rng.random((8, 16, 16, 1)), np.repeat(np.arange(4), 2), np.repeat([0, 0, 1, 1], 2))
    b = 4
    feats = tf.constant(rng.normal(size=(b, 16, 16, 16)), tf.float32)  # CPN's stride-4 region map of 64 px
    x = {"boxes": tf.constant([[[8, 10, 40, 50]]] * b, tf.float32), "valid": tf.ones((b, 1), tf.bool),
         "gt_masks": tf.constant(np.pad(np.ones((b, 30, 20, 1)), ((0, 0), (15, 19), (12, 32), (0, 0))), tf.float32)}
    classes = tf.constant([[0], [1], [0], [1]], tf.int32)
    y = {"model_id": tf.constant([[0], [2], [1], [3]]), "rotation_bin": tf.constant([[1], [2], [3], [0]]),
         "rotation_delta": tf.constant([[[1.0, 0.05, 0.0, 0.0]]] * b), "centre_offset": tf.constant([[[0.1, -0.1]]] * b)}
    parts = (model.mask_head, model.heads, model.view_encoder)
    variables = [v for p in parts for v in p.trainable_variables]
    opt = keras.optimizers.SGD(0.05)

    def loss_fn():
        pred = model.roi_outputs(feats, x["boxes"], classes, training=True)
        pred["view_embedding"] = model.view_encoder(model.views, training=True)
        terms = model.head_loss_terms(x, y, pred)
        return terms["total"] + terms["mask"]

    eager = float(loss_fn())

    @tf.function(jit_compile=True)
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn()
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    values = [float(step()) for _ in range(4)]
    # BN batch statistics under training: eager and XLA compute the same first loss
    np.testing.assert_allclose(values[0], eager, rtol=1e-4)
    assert all(b < a for a, b in zip(values, values[1:], strict=False)) and values[-1] < 0.97 * values[0], values

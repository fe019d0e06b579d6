"""Registered Mask2CAD variants: trainable parameter counts (the tiny one decomposed into the zoo's CPN
variant + the hand-counted mask head, Mask2CAD heads (heads.expected_parameter_count, the spec card's
layer list) and CAD-view encoder). The XLA step of the tiny variant's Mask2CAD part is in
test_mask2cad_short_run.py (on the model trained there, no second build)."""

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

"""Registered Mask2CAD variants: trainable parameter counts, each decomposed into the zoo's CPN variant +
the hand-counted mask head, Mask2CAD heads (heads.expected_parameter_count, the spec card's layer list)
and CAD-view encoder."""

import pytest

from official.core import registry
from official.vision.cpn.variants import VARIANTS
from research.three_d.mask2cad import heads, variants  # noqa: F401  (registration)

COUNTS = {
    "mask2cad_tiny": 405_905,
    "mask2cad_small": 757_057,
    "mask2cad_dla34": 26_572_287,
}


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


@pytest.mark.parametrize("name", ["mask2cad_tiny", "mask2cad_small"])
def test_parameter_counts_decompose(name):
    model = registry.create_model(name)
    assert model.trainable_parameter_count == COUNTS[name] == expected(name)


def test_full_variant_count():
    assert registry.create_model("mask2cad_dla34").trainable_parameter_count == COUNTS["mask2cad_dla34"]
    assert {"mask2cad_dla34", "mask2cad_hg104", "mask2cad_small", "mask2cad_tiny"} <= set(registry.list_models("mask2cad_*"))

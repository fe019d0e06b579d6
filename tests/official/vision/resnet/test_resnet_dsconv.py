"""DSA's projection-shortcut CIFAR ResNets (`resnet{20,56}_cifar_dsconv`): parameter counts equal the
official `cifar10_resnet{20,56}_dsconv_masked_plan1_bn` modules' conv / BN / linear tensors, counted here by
hand from the official layer shapes (models/resnet_cifar10.py, models/op.py), and the option-A variants keep
their counts."""

from __future__ import annotations

import pytest

from official.core import model_table, registry


def official_counts(n: int, classes: int = 10) -> tuple[int, int]:
    """(conv + BN affine + linear, BN running stats) of the official state dict without the DSA buffers
    (mask, invsigmoid_keep_ratio, invsp_beta_1/2, temperature) and num_batches_tracked.

    Every MaskedConvBNReLU(c_in, c_out, k) holds conv.weight (c_out, c_in, k, k) and bn.{weight, bias,
    running_mean, running_var} (c_out each): the stem (3 -> 16, 3x3), per block op_1 (c_in -> c, 3x3),
    op_2 (c -> c, 3x3) and, where the shape changes (first block of stages 2 and 3), skip_op (c_in -> c,
    1x1); classifier.0 Linear(64, classes)."""
    convs = [(3, 16, 3)]
    c_in = 16
    for c in (16, 32, 64):
        for _ in range(n):
            convs += [(c_in, c, 3), (c, c, 3)] + ([(c_in, c, 1)] if c_in != c else [])
            c_in = c
    trainable = sum(o * i * k * k + 2 * o for i, o, k in convs) + 64 * classes + classes
    return trainable, sum(2 * o for _, o, _ in convs)


@pytest.mark.parametrize("name, n, expected", [("resnet20_cifar_dsconv", 3, 272_474),
                                               ("resnet56_cifar_dsconv", 9, 855_770)])
def test_dsconv_counts_equal_the_official_modules(name, n, expected):
    with model_table.shape_only():
        model = registry.create_model(name)
        trainable, total = model_table.weight_counts(model)
        shortcuts = [layer.name for layer in model.layers if layer.name.endswith("_down_conv")]
    assert (trainable, total - trainable) == official_counts(n)
    assert trainable == expected
    assert shortcuts == ["resnet_layer2_0_down_conv", "resnet_layer3_0_down_conv"]
    assert all(model.get_layer(s).kernel.shape[:2] == (1, 1) for s in shortcuts)


def test_option_a_default_unchanged():
    with model_table.shape_only():
        model = registry.create_model("resnet20_cifar")
        assert model_table.weight_counts(model)[0] == 269_722
        assert not [layer for layer in model.layers if layer.name.endswith("_down_conv")]

"""CPN parameter counts at 80 classes against the official CPNDet models.

Reference: `sum(p.numel() for p in model.parameters())` of CPNDet's models/{DLA34,HG52,HG104}.py
built with their config/*.json (CUDA pooling/RoIAlign ops stubbed: they hold no parameters):
DLA-34 20,733,605; HG-52 106,049,109; HG-104 212,472,874. PyTorch's parameters() leave out BN
running statistics, so they are compared with our trainable weights; Keras' count_params() adds the
BN moving mean/variance. DLA-34 differs by CPNDet's 41,728 never-used parameters: the `project`
1x1 conv + BN of the outer level-3 and level-4 trees (64->128: 8,448; 128->256: 33,280), whose
output is overwritten by the inner tree's own projection, so they get no gradient and are not built.
The counts do not depend on the input size, so the models are built at 128 px to save time.
"""

import numpy as np
import pytest

from official.core import registry

OFFICIAL_TRAINABLE = {"cpn_dla34": 20_733_605 - 8_448 - 33_280, "cpn_hg52": 106_049_109, "cpn_hg104": 212_472_874}
TOTAL = {"cpn_dla34": 20_712_677, "cpn_hg52": 106_116_629, "cpn_hg104": 212_608_170}


def trainable(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize(
    "name", ["cpn_dla34", "cpn_hg52", pytest.param("cpn_hg104", marks=pytest.mark.slow)]
)
def test_parameter_counts_match_cpndet(name):
    model = registry.create_model(name, input_size=128)
    assert trainable(model) == OFFICIAL_TRAINABLE[name]
    assert model.count_params() == TOTAL[name]


def test_tiny_variant_count():
    model = registry.create_model("cpn_dla34tiny", num_classes=3)
    assert model.count_params() == 401_798

"""Registered AherNet models (trainable counts asserted in tests/research/video/ahernet/test_ahernet_model.py,
against a count derived from the layer table there).

- ahernet_k600   the paper's ActivityNet -> Kinetics-600 model: 2048-d P3D features, T = 512, 600 moment
                 classes (aher_k600_train.py): 97,138,032
- ahernet_anet   the ActivityNet v1.3 split-transfer model, 200 classes: 94,062,832
- ahernet_small  the CPU small run: 64-d features, T = 64, widths 64-64 / 32-32-64-64-64 (ours), 2 classes: 157,944
- ahernet_tiny   tests: 16-d features, T = 64, widths 32-16 / 16-16-32 (3 anchor layers: 16, 8, 4), 3 classes: 16,315
"""

from official.core.registry import register_variant
from research.video.ahernet.model import AherNet

SMALL = dict(feature_dim=64, temporal_length=64, stem_channels=(64, 64), anchor_channels=(32, 32, 64, 64, 64),
             context_channels=64)

register_variant("ahernet_k600", AherNet, num_classes=600)
register_variant("ahernet_anet", AherNet, num_classes=200)
register_variant("ahernet_small", AherNet, num_classes=2, **SMALL)
register_variant("ahernet_tiny", AherNet, num_classes=3, feature_dim=16, temporal_length=64, stem_channels=(32, 16),
                 anchor_channels=(16, 16, 32), context_channels=16)

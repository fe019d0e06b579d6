"""Registered OpenHybrid networks (classifier32 encoder + GAP/linear classifier + coupling flow).

Trainable parameters (tests/research/open_set/openhybrid/test_openhybrid_model.py):
- encoder trunk 999,104 (spec card check 7), classifier 128 K + K;
- flow (8 steps, hidden 256, on the 128-channel map): per step 256 (ActNorm) + 147,712 (conv3x3 64->256)
  + 65,792 (conv1x1) + 295,040 (conv3x3 256->128) = 508,800; 4,070,400 in all.
- openhybrid_classifier32            K = 6 (MNIST, SVHN, CIFAR10 6/4 splits): 5,070,278
- openhybrid_classifier32_two_stage  the same network, flow gradient cut at z (card's ablation)
"""

from official.core.registry import register_variant
from research.open_set.openhybrid.model import OpenHybrid

register_variant("openhybrid_classifier32", OpenHybrid)
register_variant("openhybrid_classifier32_two_stage", OpenHybrid, joint=False)

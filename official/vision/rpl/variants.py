"""Registered RPL networks: classifier32 + reciprocal points, one per known-class count of the protocol.

Trainable parameters = classifier32 trunk 999,104 + reciprocal points K * 128 + radius 1
(tests/official/vision/rpl/test_rpl_model.py; the PyTorch module also holds fc 128 x K and bn10 256,
which the RPL logits never use):
- rpl_classifier32               K = 6, 32 px (MNIST, SVHN, CIFAR10):      999,104 + 769   =   999,873
- rpl_classifier32_cifar_plus    K = 4, 32 px (CIFAR+10, CIFAR+50):        999,104 + 513   =   999,617
- rpl_classifier32_tinyimagenet  K = 20, 64 px (Tiny ImageNet):            999,104 + 2,561 = 1,001,665
"""

from official.core.registry import register_variant
from official.vision.rpl.model import RPLNet

register_variant("rpl_classifier32", RPLNet, classes=6, input_shape=(32, 32, 3))
register_variant("rpl_classifier32_cifar_plus", RPLNet, classes=4, input_shape=(32, 32, 3))
register_variant("rpl_classifier32_tinyimagenet", RPLNet, classes=20, input_shape=(64, 64, 3))

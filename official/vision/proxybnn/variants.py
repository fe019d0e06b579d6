"""Registered ProxyBNN networks: Bi-Real-style binary ResNet-18 (ImageNet, CIFAR) and ResNet-20 (CIFAR).

Trainable parameters (mode="proxy", spatial P: the backbone's count + 81 per binary 3x3 conv;
the exported folded model has the backbone's count, tests/official/vision/proxybnn/test_proxybnn_model.py):
- proxybnn_resnet18        11,689,512 + 16 x 81 = 11,690,808 (torchvision resnet18's layout and count)
- proxybnn_resnet18_cifar  11,173,962 + 16 x 81 = 11,175,258 (3x3 stem, no max-pool, 10 classes)
- proxybnn_resnet20_cifar     272,474 + 18 x 81 =    273,932 (16/32/64, avg-pool + 1x1 conv shortcuts)
"""

from official.core.registry import register_variant
from official.vision.proxybnn.model import RESNET20_BLOCKS, RESNET20_WIDTHS, BinaryResNet

register_variant("proxybnn_resnet18", BinaryResNet)
register_variant("proxybnn_resnet18_cifar", BinaryResNet, stem="cifar", classes=10, input_shape=(32, 32, 3))
register_variant("proxybnn_resnet20_cifar", BinaryResNet, blocks=RESNET20_BLOCKS, widths=RESNET20_WIDTHS,
                 stem="cifar", classes=10, input_shape=(32, 32, 3))

"""Registered ResNets: torchvision's ImageNet resnet18 / resnet50, the CIFAR ResNet-20/44/56 and DSA's
projection-shortcut CIFAR ResNet-20/56."""

from official.core.registry import register_variant
from official.vision.resnet.model import CifarResNet, ResNet

# torchvision resnet18 / resnet50: 11,689,512 / 25,557,032 parameters with the 1000-class fc.
register_variant("resnet18", ResNet, depth=18)
register_variant("resnet50", ResNet, depth=50)
# He et al. 2016 Sec. 4.2 (6n + 2 layers): 269,722 / 658,586 / 853,018 parameters with the 10-class linear.
register_variant("resnet20_cifar", CifarResNet, blocks_per_stage=3)
register_variant("resnet44_cifar", CifarResNet, blocks_per_stage=7)
register_variant("resnet56_cifar", CifarResNet, blocks_per_stage=9)
# DSA's released CIFAR-10 checkpoints (walkerning/differentiable-sparsity-allocation, models/resnet_cifar10.py
# `cifar10_resnet{20,56}_dsconv`): 1x1 conv + BN projection shortcuts; 272,474 / 855,770 parameters.
register_variant("resnet20_cifar_dsconv", CifarResNet, blocks_per_stage=3, shortcut="projection")
register_variant("resnet56_cifar_dsconv", CifarResNet, blocks_per_stage=9, shortcut="projection")

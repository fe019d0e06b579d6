"""ResNet classifiers (torchvision ImageNet layout, CIFAR option A): registers their variants."""

from official.vision.resnet import variants  # noqa: F401

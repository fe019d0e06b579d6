"""Registered CycleGAN generators (the objective `cyclegan` in official/training/gan/cyclegan.py trains them)."""

from official.core.registry import register_variant
from official.vision.gan.resnet_generator import ResnetGenerator

register_variant("cyclegan_resnet9", ResnetGenerator, filters=64, blocks=9)  # 11,378,179 at 3 -> 3 channels
register_variant("cyclegan_resnet6", ResnetGenerator, filters=64, blocks=6)  # CycleGAN's 128 px setting
register_variant("cyclegan_tiny", ResnetGenerator, filters=8, blocks=2, image_size=(32, 32))  # tests, small runs

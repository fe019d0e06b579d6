"""Registered COCO-FUNIT networks (counts asserted in tests/research/generative/coco_funit/test_coco_funit_model.py).

- coco_funit_base64            the generator of imaginaire's animal_faces base64 config: 121,562,307
- coco_funit_discriminator149  the projection discriminator for 149 classes: 92,038,977 (119: 92,008,257;
  305 mammals: 92,198,721) - training only, built by the `coco_funit` objective
- coco_funit_small / coco_funit_tiny (+ _discriminator_tiny)  the CPU small run and the tests (64 / 32 px)
"""

from official.core.registry import register_variant
from research.generative.coco_funit.discriminator import ProjectionDiscriminator
from research.generative.coco_funit.generator import COCOFUNITGenerator

register_variant("coco_funit_base64", COCOFUNITGenerator)
register_variant("coco_funit_discriminator149", ProjectionDiscriminator, num_classes=149)
register_variant("coco_funit_discriminator119", ProjectionDiscriminator, num_classes=119)
register_variant("coco_funit_discriminator305", ProjectionDiscriminator, num_classes=305)
register_variant("coco_funit_small", COCOFUNITGenerator, filters=16, mlp_dims=64, style_dims=16, usb_dims=64,
                 content_downsamplings=2, style_downsamplings=3, res_blocks=1, image_size=(32, 32))
register_variant("coco_funit_tiny", COCOFUNITGenerator, filters=8, mlp_dims=16, style_dims=8, usb_dims=16,
                 content_downsamplings=2, style_downsamplings=3, res_blocks=1, image_size=(32, 32))
register_variant("coco_funit_discriminator_tiny", ProjectionDiscriminator, num_classes=3, filters=8,
                 max_filters=32, stages=3, image_size=(32, 32))

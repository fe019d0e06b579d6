"""COCO-FUNIT (Saito, Saenko, Liu, ECCV 2020): few-shot image translation with a content-conditioned style encoder.

The package registers its variants and experiments (TF-free: the networks import under JAX without
TensorFlow); the `coco_funit` GAN objective (the shared TF training step) registers from
official/core/zoo_index.py as `research.generative.coco_funit.objective`, like the `few_shot_translation` task.
"""

from research.generative.coco_funit import experiments, variants  # noqa: F401  (registration)

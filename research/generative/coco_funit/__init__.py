"""COCO-FUNIT (Saito, Saenko, Liu, ECCV 2020): few-shot image translation with a content-conditioned style encoder.

The package registers its network variants (TF-free: the networks import under JAX without TensorFlow);
the experiments (their GANConfig imports the shared TF training step), the `coco_funit` objective and the
`few_shot_translation` task register from official/core/zoo_index.py.
"""

from research.generative.coco_funit import variants  # noqa: F401  (registration)

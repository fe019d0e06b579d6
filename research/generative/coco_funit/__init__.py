"""COCO-FUNIT (Saito, Saenko, Liu, ECCV 2020): few-shot image translation with a content-conditioned style encoder.

Registers the generator/discriminator variants, the `coco_funit` GAN objective and the experiments; the
`few_shot_translation` task registers from official/core/zoo_index.py.
"""

from research.generative.coco_funit import experiments, objective, variants  # noqa: F401  (registration)

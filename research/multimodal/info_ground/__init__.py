"""info-ground (Gupta et al., ECCV 2020): contrastive weakly supervised phrase grounding on detector regions.

Importing the package registers its variants and experiments (TF-free: the head runs under JAX without
TensorFlow). The `info_ground` task (tf.data, keras-hub BERT) registers from official/core/zoo_index.py as
`research.multimodal.info_ground.task`. Readers: official/data/{coco_captions,flickr30k_entities,region_features}.py;
metric: official/evaluation/phrase_grounding.py.
"""

from research.multimodal.info_ground import experiments, variants  # noqa: F401  (registration)

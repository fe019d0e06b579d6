"""AutoAugment-KD (Wei et al., ECCV 2020): strong augmentation with a teacher's soft labels."""

from official.training.autoaug_kd import experiments, method  # noqa: F401  (registration)

"""MobileNetV2 experiments: the digits pipe-check (`make demo EXPERIMENT=mobilenetv2_035_digits`)."""

from official.core.config import ExperimentConfig
from official.core.registry import register_experiment
from official.tasks.classification_experiments import digits_experiment


@register_experiment("mobilenetv2_035_digits")
def mobilenetv2_035_digits() -> ExperimentConfig:
    """MobileNetV2-0.35 on scikit-learn digits with the shared demo recipe (> 90% val top-1 in about a minute)."""
    return digits_experiment("mobilenetv2_035")

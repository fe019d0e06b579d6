"""EfficientNet (keras.applications): registers its variants."""

from official.vision.efficientnet import variants  # noqa: F401

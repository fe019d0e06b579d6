"""CPN (Corner Proposal Network): registers its variants and experiments."""

from official.vision.cpn import experiments, variants  # noqa: F401

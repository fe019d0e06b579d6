"""Registered ExchNet networks (trainable parameters counted by tests/research/retrieval/exchnet/test_exchnet_model.py
from the layer list, and by `python -m tools.list`):
- exchnet_resnet50  ResNet-50 split after stage 3, M = 4 parts, two stage-4 copies (parts, global), q = 48
- exchnet_tiny      ResNet-18-shaped basic blocks (1, 1, 1, 1) x (8, 16, 32, 64), stem 8, 64 px, q = 12 (tests, digits)
"""

from official.core.registry import register_variant
from research.retrieval.exchnet.model import ExchNet

register_variant("exchnet_resnet50", ExchNet)
register_variant("exchnet_tiny", ExchNet, code_bits=12, blocks=(1, 1, 1, 1), widths=(8, 16, 32, 64), block="basic",
                 stem_width=8, input_shape=(64, 64, 3))

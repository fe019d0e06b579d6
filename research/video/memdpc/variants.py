"""Registered MemDPC variants (trainable counts asserted in tests/research/video/memdpc/test_memdpc_model.py).

- memdpc_r2d3d18     MemDPC_BD, R-2D3D-18 (14,057,536) + extras 1,379,072 (2 ConvGRUs, head, 1024 x 256 memory);
                     UCF101 recipe at 128 px
- memdpc_r2d3d34     R-2D3D-34 (32,422,208) + the same extras; the released K400 model at 224 px
- memdpc_tiny        depths 1-1-1-1, widths 8-16-32-32, 64 memory slots, 64 px: tests and the CPU small run
- memdpc_*_lc        eval/model_lc.py classifiers on the same encoders (fine-tune / linear probe)
"""

from official.core.registry import register_variant
from research.video.memdpc.model import MemDpc, MemDpcClassifier

R34 = {"depths": (3, 4, 6, 3)}
TINY = {"depths": (1, 1, 1, 1), "widths": (8, 16, 32, 32), "img_dim": 64}

register_variant("memdpc_r2d3d18", MemDpc)
register_variant("memdpc_r2d3d34", MemDpc, img_dim=224, **R34)
register_variant("memdpc_tiny", MemDpc, mem_size=64, **TINY)
register_variant("memdpc_r2d3d18_lc", MemDpcClassifier)
register_variant("memdpc_r2d3d34_lc", MemDpcClassifier, img_dim=224, **R34)
register_variant("memdpc_tiny_lc", MemDpcClassifier, num_classes=4, **TINY)

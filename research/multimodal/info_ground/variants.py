"""Registered info-ground heads (trainable counts asserted in tests/research/multimodal/info_ground/test_info_ground_model.py).

- info_ground_bert_base  the released lang_sup criterion: (o, u, w) = (2048, 2048, 768), d = 384, 2-layer MLPs,
                         30 regions, 6 noun/adjective words, 1 + 25 noun candidates: 11,749,376 trainable
                         parameters (spec card check 1); BERT-base (frozen) is the task's text encoder
- info_ground_tiny       64-d synthetic region features, a 32-d tiny BERT, d = 16: tests and the CPU small run
"""

from official.core.registry import register_variant
from research.multimodal.info_ground.model import InfoGround

register_variant("info_ground_bert_base", InfoGround)
register_variant("info_ground_tiny", InfoGround, region_dim=64, word_dim=32, dim=16, max_regions=6, max_words=6,
                 num_candidates=4)

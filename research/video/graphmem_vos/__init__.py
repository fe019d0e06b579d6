"""GraphMemVOS (Lu et al., ECCV 2020): video object segmentation with an episodic graph memory.

Built so far: the encoders (encoders.py), the memory module (memory.py) and soft aggregation
(aggregation.py). Not yet a registered model: the key/value heads, decoder, task and
variants come next (see README.md). J&F lives in official/evaluation/davis_jf.py, the DAVIS / YouTube-VOS
readers in official/data/vos.py.
"""

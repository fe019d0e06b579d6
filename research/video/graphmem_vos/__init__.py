"""GraphMemVOS (Lu et al., ECCV 2020): video object segmentation with an episodic graph memory.

Importing the package registers its variants and experiments; the `video_object_segmentation` task
(tf.data, J&F) registers from official/core/zoo_index.py as `research.video.graphmem_vos.task`. J&F lives in
official/evaluation/davis_jf.py, the DAVIS / YouTube-VOS readers in official/data/vos.py.
"""

from research.video.graphmem_vos import experiments, variants  # noqa: F401  (registration)

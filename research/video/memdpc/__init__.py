"""MemDPC (Han, Xie, Zisserman, ECCV 2020): memory-augmented dense predictive coding for video representations.

Importing the package registers its variants and experiments; the `memdpc` task (tf.data) registers from
official/core/zoo_index.py as `research.video.memdpc.task`. The frame-folder clip reader is
official/data/video_frames.py.
"""

from research.video.memdpc import experiments, variants  # noqa: F401  (registration)
